package engine

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bucketmail/bucketmail/internal/batchconn"
)

// syncMarker ends a sync flush (RFC 1951 section 3.2.4: an empty stored
// block), once per flush in what the server sends.
var syncMarker = []byte{0, 0, 0xff, 0xff}

// deflateClient is a raw client that speaks plain IMAP until COMPRESS,
// then DEFLATE both ways, as RFC 4978 section 3 says.
type deflateClient struct {
	t   *testing.T
	nc  net.Conn
	raw *countingReader // what the server sent, compressed
	br  *bufio.Reader
	zw  *flate.Writer // nil before COMPRESS
}

// countingReader counts the bytes and sync flushes it reads.
type countingReader struct {
	r       io.Reader
	n       int
	flushes int
	tail    []byte // the last 3 bytes read, for a marker split across reads
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	b := append(c.tail, p[:n]...)
	c.flushes += bytes.Count(b, syncMarker)
	// A marker may start in the last 3 bytes; one counted cannot.
	c.tail = append([]byte(nil), b[max(len(b)-len(syncMarker)+1, 0):]...)
	return n, err
}

func dialDeflate(t *testing.T, addr string) *deflateClient {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &deflateClient{t: t, nc: nc, raw: &countingReader{r: nc}}
	c.br = bufio.NewReader(c.raw)
	return c
}

func (c *deflateClient) send(s string) {
	c.t.Helper()
	var err error
	if c.zw == nil {
		_, err = io.WriteString(c.nc, s+"\r\n")
	} else if _, err = io.WriteString(c.zw, s+"\r\n"); err == nil {
		err = c.zw.Flush()
	}
	if err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// expect reads one line per pattern, as client.expect does.
func (c *deflateClient) expect(patterns ...string) {
	c.t.Helper()
	for _, p := range patterns {
		line, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("want %q, read error %v", p, err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(line, pre) || line == p {
			continue
		}
		c.t.Fatalf("got  %q\nwant %q", line, p)
	}
}

// compress switches the client to DEFLATE, after the server's OK.
func (c *deflateClient) compress() {
	c.t.Helper()
	c.send("z COMPRESS DEFLATE")
	c.expect("z OK DEFLATE active")
	if c.br.Buffered() > 0 {
		c.t.Fatalf("%d bytes after the OK, before the client compresses", c.br.Buffered())
	}
	c.zw, _ = flate.NewWriter(c.nc, flate.DefaultCompression)
	c.br = bufio.NewReader(flate.NewReader(c.raw))
}

// serveTCP serves cfg on a loopback listener, each connection batched as
// the gateway's are; the cleanup waits for every session to end.
func serveTCP(t *testing.T, cfg Config) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(cfg)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { srv.Serve(ctx, batchconn.New(nc)) })
		}
	})
	return ln.Addr().String()
}

// errorCounter is a log handler that counts ERROR records.
type errorCounter struct{ n atomic.Int32 }

func (h *errorCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *errorCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return nil
}
func (h *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCounter) WithGroup(string) slog.Handler      { return h }

// TestCompress runs a session over DEFLATE with a raw client: COMPRESS
// advertised after login only, a second COMPRESS refused, APPEND with a
// synchronizing literal, a FETCH answered with one sync flush for all its
// lines, IDLE updates sent while the server reads, and LOGOUT.
func TestCompress(t *testing.T) {
	var appended []string
	cfg := testConfig(&appended)
	cfg.Compress = true
	var logged errorCounter
	cfg.Log = slog.New(&logged)
	c := dialDeflate(t, serveTCP(t, cfg))

	c.expect("* OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE SASL-IR AUTH=PLAIN] test IMAP ready")
	c.send("a1 COMPRESS DEFLATE")
	c.expect("a1 BAD COMPRESS not allowed not authenticated")
	c.send("a2 LOGIN joe secret")
	c.expect("a2 OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE SASL-IR COMPRESS=DEFLATE] Logged in")
	c.send("a3 COMPRESS LZW")
	c.expect("a3 BAD Unknown compression mechanism LZW")
	c.compress()

	c.send("b1 CAPABILITY")
	c.expect("* CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE SASL-IR", "b1 OK CAPABILITY completed")
	c.send("b2 COMPRESS DEFLATE")
	c.expect("b2 NO [COMPRESSIONACTIVE] DEFLATE active already")
	c.send("b3 APPEND INBOX {5}")
	c.expect("+ Ready")
	c.send("hello")
	c.expect("b3 OK APPEND completed")
	if len(appended) != 1 || appended[0] != "hello" {
		t.Fatalf("appended %q", appended)
	}
	c.send("b4 SELECT INBOX")
	c.expect("* 1 EXISTS", "b4 OK [READ-WRITE] SELECT completed")

	// 3,000 FETCH lines are about 70 KiB: the engine's writer passes them
	// on in several writes, which go out with one sync flush.
	for range 2999 {
		appended = append(appended, "x")
	}
	flushes, n := c.raw.flushes, c.raw.n
	c.send("b5 FETCH 1:* (UID)")
	for i := range 3000 {
		c.expect(fmt.Sprintf("* %d FETCH (UID %d)", i+1, i+1))
	}
	c.expect("b5 OK FETCH completed")
	if got := c.raw.flushes - flushes; got != 1 {
		t.Errorf("FETCH of 3,000 lines: %d sync flushes, want 1", got)
	}
	t.Logf("FETCH of 3,000 lines: %d bytes compressed", c.raw.n-n)

	c.send("b6 IDLE")
	c.expect("+ idling", "* 3001 EXISTS") // written while the server waits for DONE
	c.send("DONE")
	c.expect("b6 OK IDLE completed")
	c.send("b7 LOGOUT")
	c.expect("* BYE Logging out", "b7 OK LOGOUT completed")
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("after LOGOUT: %v, want EOF", err)
	}
	if n := logged.n.Load(); n != 0 {
		t.Errorf("%d ERROR log records", n)
	}
}

// TestCompressNotConfigured: without Config.Compress, COMPRESS is an
// unknown command and not advertised.
func TestCompressNotConfigured(t *testing.T) {
	var appended []string
	c, _ := start(t, context.Background(), testConfig(&appended))
	c.expect("* OK *")
	c.send("a LOGIN joe secret")
	c.expect("a OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE SASL-IR] Logged in")
	c.send("b COMPRESS DEFLATE")
	c.expect("b BAD Command not supported")
	c.send("c NOOP")
	c.expect("c OK NOOP completed")
}

// TestCompressGarbage: what does not inflate ends the session with BYE
// (compressed, since the server's direction is intact), without an ERROR
// log, whether it comes as a command, during IDLE or as an APPEND's
// message.
func TestCompressGarbage(t *testing.T) {
	// A final block of the reserved type 3 (RFC 1951 section 3.2.3).
	const garbage = "\x07\xff\xff\xff"
	for _, during := range []string{"command", "IDLE", "APPEND"} {
		t.Run(during, func(t *testing.T) {
			var appended []string
			cfg := testConfig(&appended)
			cfg.Compress = true
			var logged errorCounter
			cfg.Log = slog.New(&logged)
			c := dialDeflate(t, serveTCP(t, cfg))
			c.expect("* OK *")
			c.send("a LOGIN joe secret")
			c.expect("a OK *")
			c.compress()
			switch during {
			case "IDLE":
				c.send("b IDLE")
				c.expect("+ idling", "* 1 EXISTS")
			case "APPEND":
				c.send("b APPEND INBOX {10}")
				c.expect("+ Ready")
			}
			if _, err := io.WriteString(c.nc, garbage); err != nil {
				t.Fatal(err)
			}
			c.expect("* BYE Invalid compressed data")
			if _, err := c.br.ReadByte(); err == nil {
				t.Error("the connection stays open after BYE")
			}
			if n := logged.n.Load(); n != 0 {
				t.Errorf("%d ERROR log records", n)
			}
		})
	}
}

// FuzzCompressedInput feeds anything as the client's compressed stream:
// the session never panics, never logs an ERROR, and ends when the
// client goes away.
func FuzzCompressedInput(f *testing.F) {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	for _, s := range []string{"b NOOP\r\n", "b APPEND INBOX {5}\r\nhello\r\n", "b IDLE\r\nDONE\r\n", "b SELECT INBOX\r\nc FETCH 1:* (UID)\r\n"} {
		io.WriteString(zw, s)
		zw.Flush()
		f.Add(append([]byte(nil), buf.Bytes()...))
		f.Add(buf.Bytes()[:buf.Len()/2])
	}
	f.Add([]byte("\x07\xff\xff\xff"))
	f.Add([]byte("\x00\xff\xff\x00\x00")) // a stored block of 65,535 bytes, not sent
	f.Fuzz(func(t *testing.T, in []byte) {
		var appended []string
		cfg := testConfig(&appended)
		cfg.Compress = true
		var logged errorCounter
		cfg.Log = slog.New(&logged)
		srvConn, cliConn := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			New(cfg).Serve(context.Background(), srvConn)
		}()
		go io.Copy(io.Discard, cliConn)
		if _, err := io.WriteString(cliConn, "a LOGIN joe secret\r\nz COMPRESS DEFLATE\r\n"); err != nil {
			t.Fatal(err)
		}
		cliConn.Write(in) // the server may have ended the session before all of it
		cliConn.Close()
		<-done
		if n := logged.n.Load(); n != 0 {
			t.Errorf("%d ERROR log records", n)
		}
	})
}
