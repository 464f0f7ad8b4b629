package engine

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// errorCounter is a log handler that counts ERROR records and keeps the
// last one's message.
type errorCounter struct {
	n    atomic.Int32
	mu   sync.Mutex
	last string
}

func (h *errorCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *errorCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s", a); return true })
		h.mu.Lock()
		h.last = b.String()
		h.mu.Unlock()
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
	// on in several writes, which go out in batches of batchMax bytes, each
	// ending with a sync flush, not one per line or per write.
	for range 2999 {
		appended = append(appended, "x")
	}
	flushes, n := c.raw.flushes, c.raw.n
	c.send("b5 FETCH 1:* (UID)")
	size := len("b5 OK FETCH completed\r\n")
	for i := range 3000 {
		line := fmt.Sprintf("* %d FETCH (UID %d)", i+1, i+1)
		c.expect(line)
		size += len(line) + 2
	}
	c.expect("b5 OK FETCH completed")
	if got, want := c.raw.flushes-flushes, (size+batchMax-1)/batchMax; got != want {
		t.Errorf("FETCH of 3,000 lines (%d bytes): %d sync flushes, want %d", size, got, want)
	}
	t.Logf("FETCH of 3,000 lines: %d bytes, %d compressed", size, c.raw.n-n)

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
		t.Errorf("%d ERROR log records, the last %q", n, logged.last)
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
				t.Errorf("%d ERROR log records, the last %q", n, logged.last)
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
			t.Errorf("%d ERROR log records, the last %q", n, logged.last)
		}
	})
}

// TestIdleConnMemory measures the heap an idle logged-in connection
// holds (both ends of it: the client's socket is a few hundred bytes), with
// and without COMPRESS, and checks that a connection that never sent
// COMPRESS stays within the gateway's 32 KiB per idle connection.
func TestIdleConnMemory(t *testing.T) {
	const n = 200
	var appended []string
	cfg := testConfig(&appended)
	cfg.Compress = true
	addr := serveTCP(t, cfg)

	var noop bytes.Buffer // "b NOOP" as the start of a client's stream
	zw, _ := flate.NewWriter(&noop, flate.DefaultCompression)
	io.WriteString(zw, "b NOOP\r\n")
	zw.Flush()

	open := func(compress bool) net.Conn {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		io.WriteString(nc, "a LOGIN joe secret\r\n")
		if compress {
			io.WriteString(nc, "z COMPRESS DEFLATE\r\n")
		}
		br := bufio.NewReader(nc)
		readTo(t, br, "a OK ")
		if compress {
			readTo(t, br, "z OK ")
			nc.Write(noop.Bytes())
			readTo(t, bufio.NewReader(flate.NewReader(br)), "b OK ")
		}
		return nc
	}
	perConn := func(compress bool) (heap, stack float64) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC() // the second empties the pools
		runtime.ReadMemStats(&before)
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i] = open(compress)
		}
		runtime.GC()
		runtime.GC() // the second empties the pools
		runtime.ReadMemStats(&after)
		for _, nc := range conns {
			nc.Close()
		}
		return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n / 1024,
			float64(int64(after.StackInuse)-int64(before.StackInuse)) / n / 1024
	}
	heap, stack := perConn(false)
	t.Logf("idle connection: %.1f KiB heap, %.1f KiB stack", heap, stack)
	if heap > 32 {
		t.Errorf("idle connection without COMPRESS: %.1f KiB heap, want ≤ 32", heap)
	}
	heap, stack = perConn(true)
	t.Logf("idle connection after COMPRESS: %.1f KiB heap, %.1f KiB stack", heap, stack)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w, _ := flate.NewWriter(io.Discard, deflateLevel)
	runtime.ReadMemStats(&after)
	t.Logf("a deflater (one per batch being compressed, from a pool): %.1f KiB", float64(after.TotalAlloc-before.TotalAlloc)/1024)
	runtime.KeepAlive(w)
}

// readTo reads lines until one starts with prefix.
func readTo(t *testing.T, br *bufio.Reader, prefix string) {
	t.Helper()
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("want %q, read error %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return
		}
	}
}

// imaplibCompressScript runs COMPRESS DEFLATE with Python's imaplib, which
// does not know it: a raw command, then the socket wrapped in zlib's raw
// DEFLATE (wbits -15), flushing with Z_SYNC_FLUSH after each command.
const imaplibCompressScript = `
import imaplib, json, sys, zlib
imaplib.Commands["COMPRESS"] = ("AUTH", "SELECTED")
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
out = {"login": m.login("joe", "secret")[0]}
out["caps"] = m.capability()[1][0].decode().split()
out["compress"] = m._simple_command("COMPRESS", "DEFLATE")[0]
comp, decomp, buf, raw = zlib.compressobj(6, zlib.DEFLATED, -15), zlib.decompressobj(-15), bytearray(), m.sock
out["raw"] = 0
def send(data):
    raw.sendall(comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))
def fill():
    chunk = raw.recv(4096)
    if not chunk:
        raise EOFError("connection closed")
    out["raw"] += len(chunk)
    buf.extend(decomp.decompress(chunk))
def readline():
    while b"\n" not in buf:
        fill()
    i = buf.index(b"\n") + 1
    line = bytes(buf[:i]); del buf[:i]
    return line
def read(n):
    while len(buf) < n:
        fill()
    data = bytes(buf[:n]); del buf[:n]
    return data
m.send, m.readline, m.read = send, readline, read
out["caps_after"] = m.capability()[1][0].decode()
out["again"] = m._simple_command("COMPRESS", "DEFLATE")[0]
out["append"] = m.append("INBOX", None, None, b"Subject: hi\r\n\r\n" + b"body line\r\n" * 200)[0]
out["select"] = [x.decode() if x else None for x in m.select("INBOX")[1]]
out["fetch"] = [x.decode() if x else None for x in m.uid("FETCH", "1:*", "(UID)")[1]]
out["noop"] = m.noop()[0]
out["logout"] = m.logout()[0]
out["eof"] = decomp.eof
print(json.dumps(out))
`

// TestCompressImaplib: Python's imaplib and zlib, an independent DEFLATE,
// through COMPRESS, APPEND of a literal, SELECT, UID FETCH and LOGOUT.
func TestCompressImaplib(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	var appended []string
	cfg := testConfig(&appended)
	cfg.Compress = true
	cfg.CheckAppend = nil // the message is over testConfig's 100 bytes
	_, port, _ := net.SplitHostPort(serveTCP(t, cfg))
	outb, err := exec.Command("python3", "-c", imaplibCompressScript, port).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("python3 imaplib: %v\n%s", err, stderr)
	}
	var out struct {
		Login, Compress, CapsAfter, Again, Append, Noop, Logout string
		Caps, Select, Fetch                                     []string
		EOF                                                     bool
	}
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("imaplib output %q: %v", outb, err)
	}
	if !slices.Contains(out.Caps, "COMPRESS=DEFLATE") || strings.Contains(out.CapsAfter, "COMPRESS") {
		t.Errorf("capabilities before COMPRESS %q, after %q", out.Caps, out.CapsAfter)
	}
	if out.Compress != "OK" || out.Again != "NO" || out.Append != "OK" || out.Noop != "OK" || out.Logout != "BYE" || !out.EOF {
		t.Errorf("imaplib: %s", outb)
	}
	if len(appended) != 1 || appended[0] != "Subject: hi\r\n\r\n"+strings.Repeat("body line\r\n", 200) {
		t.Errorf("appended %q", appended)
	}
	if len(out.Select) != 1 || out.Select[0] != "1" || len(out.Fetch) != 1 || out.Fetch[0] != "1 (UID 1)" {
		t.Errorf("SELECT %q, UID FETCH %q", out.Select, out.Fetch)
	}
}

// BenchmarkDeflateBatch compresses FETCH responses a batch at a time, as
// a compressed connection sends them: a pooled deflater per batch, a
// sync flush at its end.
func BenchmarkDeflateBatch(b *testing.B) {
	var text bytes.Buffer
	for i := 1; text.Len() < batchMax; i++ {
		fmt.Fprintf(&text, "* %d FETCH (UID %d FLAGS (\\Seen) RFC822.SIZE %d)\r\n", i, i+1000, 10000+i*7)
	}
	batch := text.Bytes()[:batchMax]
	srv, cli := net.Pipe()
	var sent atomic.Int64
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := cli.Read(buf)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	d := newDeflateConn(srv)
	defer d.Close()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Write(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sent.Load())/float64(b.N*len(batch)), "compressed/raw")
}

// TestCompressDisconnect: a client that goes away after COMPRESS, in IDLE
// or between commands, ends its session; nothing is left running.
func TestCompressDisconnect(t *testing.T) {
	var zcmd bytes.Buffer
	zw, _ := flate.NewWriter(&zcmd, flate.BestSpeed)
	io.WriteString(zw, "b IDLE\r\n")
	zw.Flush()
	for _, idle := range []bool{false, true} {
		var appended []string
		cfg := testConfig(&appended)
		cfg.Compress = true
		c, done := start(t, context.Background(), cfg)
		c.expect("* OK *")
		c.send("a LOGIN joe secret")
		c.expect("a OK *")
		c.send("z COMPRESS DEFLATE")
		c.expect("z OK DEFLATE active")
		zr := bufio.NewReader(flate.NewReader(c.br))
		if idle {
			c.out <- zcmd.String()
			readTo(t, zr, "+ idling")
		}
		c.nc.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("idle %v: the session still runs 10 s after its client left", idle)
		}
	}
}
