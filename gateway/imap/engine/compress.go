package engine

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// COMPRESS=DEFLATE (RFC 4978): after the tagged OK both directions are a
// raw DEFLATE stream (RFC 1951, no zlib header), each side ending what it
// sends with a sync flush whenever it waits for the other.
//
// Memory. Inflating needs the last 32 KiB of what the client sent (the
// window its back references may reach), so a compressed connection
// holds an inflater of about 40 KiB and a 4 KiB read buffer for as long
// as it lives: idle, about 43 KiB more than without COMPRESS
// (TestIdleConnMemory). Deflating needs no history: responses are
// gathered into a batch of up to batchMax bytes (from a pool, held only
// while it has bytes), and each batch is compressed on its own by a
// deflater taken from a pool for that call alone, into a pooled output
// buffer that is then written out. A flate.Writer is about 1.1 MiB
// whatever its level, so the deflaters in use are bounded by the batches
// being compressed at the same moment, not by connections: none is held
// while a connection waits for its client, for storage or for a slow
// socket. A batch compressed without the ones before it compresses a
// little worse; batches are up to 32 KiB of responses, so little is lost
// (FETCH lines compress to about 15%, BenchmarkDeflateBatch). A
// connection that never sends COMPRESS allocates none of this.

// batchMax is the most a batch holds before it is compressed and sent,
// the size of internal/batchconn's batches.
const batchMax = 32 << 10

// deflateLevel is the level of the pooled writers: flate.BestSpeed resets
// in constant time; the higher levels clear 640 KiB at each reset, that
// is at each batch.
const deflateLevel = flate.BestSpeed

var (
	deflaters = sync.Pool{New: func() any {
		w, _ := flate.NewWriter(io.Discard, deflateLevel)
		return w
	}}
	batches = sync.Pool{New: func() any { b := make([]byte, 0, batchMax); return &b }}
	outputs = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// finalBlock ends a DEFLATE stream that a sync flush left on a byte
// boundary: an empty stored block with BFINAL set (RFC 1951 section 3.2.4).
var finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// errBadDeflate: what the client sent does not inflate. The stream cannot
// be resynchronised, so the session ends with BYE.
var errBadDeflate = errors.New("imap: invalid compressed data")

// compress runs COMPRESS (RFC 4978 section 3): OK uncompressed, then the
// connection is remade over DEFLATE, as STARTTLS remakes it over TLS.
func (s *Server) compress(ctx context.Context, c *Conn, cmd *wire.Command) error {
	if _, ok := c.nc.(*deflateConn); ok {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: "COMPRESSIONACTIVE", Text: "DEFLATE active already"}
	}
	if m := cmd.Args.(*wire.Compress).Mechanism; m != "DEFLATE" {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown compression mechanism " + m}
	}
	c.w.Status(cmd.Tag, "OK", "", "DEFLATE active")
	if err := c.w.Flush(); err != nil {
		return err
	}
	c.setConn(newDeflateConn(c.nc))
	return errAnswered
}

// compressCapability is what COMPRESS adds to the capabilities of c.
func (s *Server) compressCapability(c *Conn) []string {
	if !s.cfg.Compress || c.state == NotAuthenticated {
		return nil
	}
	if _, ok := c.nc.(*deflateConn); ok {
		return nil // active already: a second COMPRESS can only fail
	}
	return []string{"COMPRESS=DEFLATE"}
}

// badDeflate ends a session whose client sent data that does not
// inflate: BYE, no ERROR log (a client's mistake). It reports whether err
// was that.
func badDeflate(c *Conn, err error) bool {
	if !errors.Is(err, errBadDeflate) {
		return false
	}
	c.w.Status("*", "BYE", "", "Invalid compressed data")
	c.w.Flush()
	c.state = Logout
	return true
}

// deflateConn is a connection whose both directions are DEFLATE. Writes
// are gathered into a batch that is compressed and sent, ending with a
// sync flush, when the session reads from the network again (it has
// nothing more to say before the next command), when it is full, or at
// once while a read is waiting (IDLE updates): the same points at which
// internal/batchconn, below it, sends its batch.
type deflateConn struct {
	net.Conn
	zr  io.Reader     // inflates from src
	src *bufio.Reader // the network side, read ahead of zr (endCompress)

	mu      sync.Mutex
	batch   *[]byte // from batches while it holds bytes, else nil
	reading bool    // a network read is waiting: writes go out at once
	err     error   // the first failed write
}

func newDeflateConn(nc net.Conn) *deflateConn {
	d := &deflateConn{Conn: nc}
	d.src = bufio.NewReaderSize(deflateSrc{d}, 4096)
	d.zr = flate.NewReader(d.src)
	return d
}

// Read inflates what the client sent.
func (d *deflateConn) Read(p []byte) (int, error) {
	n, err := d.zr.Read(p)
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		err = fmt.Errorf("%w: %w", errBadDeflate, err)
	}
	return n, err
}

// Write adds p to the batch.
func (d *deflateConn) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	n := len(p)
	for len(p) > 0 {
		if d.batch == nil {
			d.batch = batches.Get().(*[]byte)
		}
		k := min(len(p), batchMax-len(*d.batch))
		*d.batch = append(*d.batch, p[:k]...)
		p = p[k:]
		if len(*d.batch) == batchMax {
			if err := d.flushLocked(); err != nil {
				return n - len(p) - k, err
			}
		}
	}
	if d.reading {
		if err := d.flushLocked(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Close sends what is pending (a BYE) and ends the stream with a final
// block, so that the client sees its end rather than a cut; then closes.
func (d *deflateConn) Close() error {
	d.mu.Lock()
	if d.flushLocked() == nil {
		d.Conn.Write(finalBlock)
		d.err = net.ErrClosed
	}
	d.mu.Unlock()
	return d.Conn.Close()
}

// flushLocked compresses the batch, ends it with a sync flush and sends
// it.
func (d *deflateConn) flushLocked() error {
	if d.err != nil || d.batch == nil {
		return d.err
	}
	out := outputs.Get().(*bytes.Buffer)
	zw := deflaters.Get().(*flate.Writer)
	zw.Reset(out)
	zw.Write(*d.batch) // a bytes.Buffer does not fail
	zw.Flush()
	zw.Reset(io.Discard)
	deflaters.Put(zw)
	*d.batch = (*d.batch)[:0]
	batches.Put(d.batch)
	d.batch = nil

	_, d.err = d.Conn.Write(out.Bytes())
	if out.Cap() <= 2*batchMax {
		out.Reset()
		outputs.Put(out)
	}
	return d.err
}

// deflateSrc is the network side of the inflater: it ends the batch
// before it waits for the client.
type deflateSrc struct{ d *deflateConn }

func (s deflateSrc) Read(p []byte) (int, error) {
	d := s.d
	d.mu.Lock()
	err := d.flushLocked()
	d.reading = err == nil
	d.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := d.Conn.Read(p)
	d.mu.Lock()
	d.reading = false
	d.mu.Unlock()
	return n, err
}
