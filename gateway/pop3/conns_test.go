package pop3

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
)

func withConns(cc abuse.ConnConfig) envOptions {
	return envOptions{configure: func(c *Config) { c.Conns = cc }}
}

// rawDial connects to addr in the clear; reads give up after 10 s.
func rawDial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func wantClosed(t *testing.T, r *bufio.Reader, what string) {
	t.Helper()
	for {
		_, err := r.ReadString('\n')
		if closedErr(err) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v, want the connection closed by the server", what, err)
		}
	}
}

func TestMaxConnectionsRefused(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{MaxConns: 2}))
	first, second := e.dial(), e.dial()
	_, r := rawDial(t, e.addr)
	if line, err := r.ReadString('\n'); err != nil || line != capRefusal {
		t.Fatalf("over the cap: %q, %v; want %q", line, err, capRefusal)
	}
	wantClosed(t, r, "after the refusal")
	first.cmd("NOOP", "-ERR") // within the cap, served (NOOP needs a login)
	second.cmd("CAPA", "+OK")
}

func TestPOP3SWithoutClientHelloIsClosed(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{HandshakeTimeout: 200 * time.Millisecond}))
	_, r := rawDial(t, e.tlsAddr)
	wantClosed(t, r, "POP3S without a ClientHello")
	e.dialTLS().cmd("CAPA", "+OK")
}

func TestSTLSWithoutClientHelloIsClosed(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{HandshakeTimeout: 200 * time.Millisecond}))
	c, r := rawDial(t, e.addr)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "STLS\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("STLS: %q, %v", line, err)
	}
	wantClosed(t, r, "STLS without a ClientHello")
}

func TestTrickledCommandIsCut(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{LineTimeout: 300 * time.Millisecond, MinLineRate: 1000}))
	c, r := rawDial(t, e.addr)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	go func() {
		for _, b := range []byte("USER " + strings.Repeat("x", 200) + "\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	wantClosed(t, r, "a command sent a byte per 50 ms")
}

// closedErr reports whether a read error means the server closed the
// connection: EOF, or a reset when client bytes were still unread.
func closedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}
