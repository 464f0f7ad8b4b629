package engine

import (
	"bufio"
	"compress/flate"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// unauthConfig is testConfig with UNAUTHENTICATE answered as the gateway
// answers it: the handler's own state reset, then Conn.Unauthenticate.
func unauthConfig(appended *[]string) Config {
	cfg := testConfig(appended)
	cfg.Commands["UNAUTHENTICATE"] = Command{[]State{Authenticated, Selected},
		func(ctx context.Context, c *Conn, cmd *wire.Command) error { return c.Unauthenticate(cmd.Tag) }}
	return cfg
}

// TestUnauthenticate: UNAUTHENTICATE (RFC 8437 section 3) leaves the
// selected mailbox and the authenticated state, and the extensions the
// client enabled cease to be enabled (section 4.1), so that ENABLE enables
// them anew after the next login; pipelined with a LOGIN, that LOGIN runs.
func TestUnauthenticate(t *testing.T) {
	var appended []string
	c, _ := start(t, context.Background(), unauthConfig(&appended))
	c.expect("* OK *")
	c.send("a1 LOGIN joe secret")
	c.expect("a1 OK *")
	c.send("a2 ENABLE UTF8=ACCEPT")
	c.expect("* ENABLED UTF8=ACCEPT", "a2 OK ENABLE completed")
	c.send("a3 SELECT INBOX")
	c.expect("* 0 EXISTS", "a3 OK [READ-WRITE] SELECT completed")
	c.send("a4 UNAUTHENTICATE")
	c.send("a5 LOGIN joe secret")
	c.expect("a4 OK UNAUTHENTICATE completed", "a5 OK *")
	c.send("a6 FETCH 1:* (UID)")
	c.expect("a6 BAD FETCH not allowed authenticated")
	c.send("a7 ENABLE UTF8=ACCEPT")
	c.expect("* ENABLED UTF8=ACCEPT", "a7 OK ENABLE completed")
	c.send("a8 UNAUTHENTICATE")
	c.expect("a8 OK UNAUTHENTICATE completed")
	c.send("a9 UNAUTHENTICATE")
	c.expect("a9 BAD UNAUTHENTICATE not allowed not authenticated")
	c.send("b1 SELECT INBOX")
	c.expect("b1 BAD SELECT not allowed not authenticated")
	c.send("b2 LOGOUT")
	c.expect("* BYE Logging out", "b2 OK LOGOUT completed")
}

// TestUnauthenticateCompress: with COMPRESS active, UNAUTHENTICATE ends
// the compression layer (RFC 8437 section 4.1): the server's OK is its
// last compressed line and its DEFLATE stream ends after it; the client
// ends its stream after the command and speaks plain IMAP from there on,
// here pipelined right behind the end of its stream. COMPRESS may be
// used again after the next login.
func TestUnauthenticateCompress(t *testing.T) {
	var appended []string
	cfg := unauthConfig(&appended)
	cfg.Compress = true
	var logged errorCounter
	cfg.Log = slog.New(&logged)
	c := dialDeflate(t, serveTCP(t, cfg))
	c.expect("* OK *")
	c.send("a1 LOGIN joe secret")
	c.expect("a1 OK *")
	src := c.compressBounded()

	c.send("b1 NOOP")
	c.expect("b1 OK NOOP completed")
	c.send("b2 UNAUTHENTICATE")
	if err := c.zw.Close(); err != nil { // the end of the client's stream
		t.Fatal(err)
	}
	c.zw = nil
	c.send("c1 LOGIN joe secret")
	c.expect("b2 OK UNAUTHENTICATE completed")
	if rest, err := io.ReadAll(c.br); err != nil || len(rest) > 0 {
		t.Fatalf("after the OK, the server's stream holds %q, %v; want its end", rest, err)
	}
	c.br = src // plain from here on
	c.expect("c1 OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE SASL-IR COMPRESS=DEFLATE] Logged in")
	c.send("c2 NOOP")
	c.expect("c2 OK NOOP completed")
	c.compress()
	c.send("d1 LOGOUT")
	c.expect("* BYE Logging out", "d1 OK LOGOUT completed")
	if n := logged.n.Load(); n != 0 {
		t.Errorf("%d ERROR log records, the last %q", n, logged.last)
	}
}

// TestUnauthenticateCompressedAfter: compressed data after the
// UNAUTHENTICATE that ends the client's compression layer breaks the
// protocol: after the OK (compressed, the server's last), a plain BYE
// ends the session, with no ERROR log.
func TestUnauthenticateCompressedAfter(t *testing.T) {
	var appended []string
	cfg := unauthConfig(&appended)
	cfg.Compress = true
	var logged errorCounter
	cfg.Log = slog.New(&logged)
	c := dialDeflate(t, serveTCP(t, cfg))
	c.expect("* OK *")
	c.send("a1 LOGIN joe secret")
	c.expect("a1 OK *")
	src := c.compressBounded()
	if _, err := io.WriteString(c.zw, "b1 UNAUTHENTICATE\r\nb2 NOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.zw.Flush(); err != nil {
		t.Fatal(err)
	}
	c.expect("b1 OK UNAUTHENTICATE completed")
	if _, err := io.ReadAll(c.br); err != nil {
		t.Fatalf("the server's stream does not end: %v", err)
	}
	c.br = src
	c.expect("* BYE *")
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("after BYE: %v, want EOF", err)
	}
	if n := logged.n.Load(); n != 0 {
		t.Errorf("%d ERROR log records, the last %q", n, logged.last)
	}
}

// compressBounded is compress with an inflater that reads no further than
// the end of the server's DEFLATE stream: it returns the reader of what
// comes after that end.
func (c *deflateClient) compressBounded() *bufio.Reader {
	c.t.Helper()
	c.compress()
	src := bufio.NewReader(c.raw)
	c.br = bufio.NewReader(flate.NewReader(src))
	return src
}
