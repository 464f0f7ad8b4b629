package pop3

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func withConns(cc abuse.ConnConfig) envOptions {
	return envOptions{configure: func(c *Config) { c.Conns = cc }}
}

func TestMaxConnectionsRefused(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{MaxConns: 2}))
	first, second := e.dial(), e.dial()
	_, r := testenv.RawDial(t, e.addr)
	if line, err := r.ReadString('\n'); err != nil || line != capRefusal {
		t.Fatalf("over the cap: %q, %v; want %q", line, err, capRefusal)
	}
	testenv.WantClosed(t, r, "after the refusal")
	first.cmd("NOOP", "-ERR") // within the cap, served (NOOP needs a login)
	second.cmd("CAPA", "+OK")
}

func TestPOP3SWithoutClientHelloIsClosed(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{HandshakeTimeout: 200 * time.Millisecond}))
	_, r := testenv.RawDial(t, e.tlsAddr)
	testenv.WantClosed(t, r, "POP3S without a ClientHello")
	e.dialTLS().cmd("CAPA", "+OK")
}

func TestSTLSWithoutClientHelloIsClosed(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{HandshakeTimeout: 200 * time.Millisecond}))
	c, r := testenv.RawDial(t, e.addr)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "STLS\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("STLS: %q, %v", line, err)
	}
	testenv.WantClosed(t, r, "STLS without a ClientHello")
}

func TestTrickledCommandIsCut(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{LineTimeout: 300 * time.Millisecond, MinLineRate: 1000}))
	c, r := testenv.RawDial(t, e.addr)
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
	testenv.WantClosed(t, r, "a command sent a byte per 50 ms")
}
