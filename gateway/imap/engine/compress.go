package engine

import (
	"bufio"
	"cmp"
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
// raw DEFLATE stream (RFC 1951, no zlib header), each side flushing with
// a sync flush whenever it waits for the other.
//
// Memory. Inflating needs the last 32 KiB of what the client sent (the
// window its back references may reach), so a compressed connection
// holds an inflater of about 43 KiB plus a 4 KiB read buffer for as long
// as it lives. Deflating needs no history: each response batch is
// compressed on its own by a writer taken from a pool and given back at
// the sync flush that ends the batch, so an idle connection holds no
// deflater, and one writing holds one of about 330 KiB (flate.BestSpeed;
// the higher levels cost over 1 MiB and clear 640 KiB at each reset).
// A batch compressed without the ones before it compresses a little
// worse; batches are whole responses, often many of them, so little is
// lost. A connection that never sends COMPRESS allocates none of this.

// deflateLevel is the level of the pooled writers; see above.
const deflateLevel = flate.BestSpeed

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, deflateLevel)
	return w
}}

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
		return nil // RFC 4978 section 3: not advertised once active
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
// are compressed as they come and sync-flushed when the session reads
// from the network again (it has nothing more to say before the next
// command), or at once while a read is waiting (IDLE updates). The
// connection below (internal/batchconn) then sends the batch in few
// system calls, as without compression.
type deflateConn struct {
	net.Conn
	zr io.Reader // inflates from src

	mu      sync.Mutex
	zw      *flate.Writer // from deflaters while a batch is written, else nil
	reading bool          // a network read is waiting: writes go out at once
	err     error         // the first failed write
}

func newDeflateConn(nc net.Conn) *deflateConn {
	d := &deflateConn{Conn: nc}
	d.zr = flate.NewReader(bufio.NewReaderSize(deflateSrc{d}, 4096))
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

// Write compresses p into the current batch.
func (d *deflateConn) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	if d.zw == nil {
		d.zw = deflaters.Get().(*flate.Writer)
		d.zw.Reset(d.Conn)
	}
	n, err := d.zw.Write(p)
	if err == nil && d.reading {
		err = d.flushLocked()
	}
	if err != nil {
		d.err = err
	}
	return n, err
}

// Close sends what is pending (a BYE) and ends the stream with a final
// block, so that the client sees its end rather than a cut; then closes.
func (d *deflateConn) Close() error {
	d.mu.Lock()
	if d.err == nil {
		if d.zw == nil {
			d.zw = deflaters.Get().(*flate.Writer)
			d.zw.Reset(d.Conn)
		}
		d.err = cmp.Or(d.zw.Close(), net.ErrClosed)
		d.zw.Reset(io.Discard)
		deflaters.Put(d.zw)
		d.zw = nil
	}
	d.mu.Unlock()
	return d.Conn.Close()
}

// flushLocked ends the batch with a sync flush and gives the writer back.
func (d *deflateConn) flushLocked() error {
	if d.zw == nil {
		return d.err
	}
	err := d.zw.Flush()
	d.zw.Reset(io.Discard) // holds no reference to this connection
	deflaters.Put(d.zw)
	d.zw = nil
	if err != nil && d.err == nil {
		d.err = err
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
