package imapgw

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func withConns(cc abuse.ConnConfig) envOption {
	return func(c *Config) { c.Conns = cc }
}

func TestMaxConnectionsBye(t *testing.T) {
	env := newEnv(t, withConns(abuse.ConnConfig{MaxConns: 2}))
	var firsts []net.Conn
	var readers []*bufio.Reader
	for range 2 {
		c, r := testenv.RawDial(t, env.plainAddr)
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK ") {
			t.Fatalf("greeting within the cap %q, %v", line, err)
		}
		firsts, readers = append(firsts, c), append(readers, r)
	}
	_, r := testenv.RawDial(t, env.plainAddr)
	if line, err := r.ReadString('\n'); err != nil || line != capRefusal {
		t.Fatalf("over the cap: %q, %v; want %q", line, err, capRefusal)
	}
	if _, err := r.ReadString('\n'); !testenv.ClosedByPeer(err) {
		t.Fatalf("after the BYE: %v, want the connection closed", err)
	}
	for i, c := range firsts {
		if _, err := io.WriteString(c, "a NOOP\r\n"); err != nil {
			t.Fatal(err)
		}
		if line, err := readers[i].ReadString('\n'); err != nil || !strings.HasPrefix(line, "a OK") {
			t.Fatalf("NOOP within the cap: %q, %v", line, err)
		}
	}
}

func TestIMAPSWithoutClientHelloIsClosed(t *testing.T) {
	env := newEnv(t, withConns(abuse.ConnConfig{HandshakeTimeout: 200 * time.Millisecond}))
	_, r := testenv.RawDial(t, env.tlsAddr)
	if _, err := r.ReadByte(); !testenv.ClosedByPeer(err) {
		t.Fatalf("IMAPS without a ClientHello: %v, want closed by the server", err)
	}
	env.dial(t, "alice@example.org", nil) // a real client is served
}

func TestTrickledCommandIsCut(t *testing.T) {
	env := newEnv(t, withConns(abuse.ConnConfig{LineTimeout: 300 * time.Millisecond, MinLineRate: 1000}))
	c, r := testenv.RawDial(t, env.plainAddr)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	go func() {
		for _, b := range []byte("a LOGIN alice@example.org " + strings.Repeat("x", 200) + "\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	// The engine's pre-login bound is a minute; the test's 10 s.
	for {
		_, err := r.ReadString('\n')
		if testenv.ClosedByPeer(err) {
			return
		}
		if err != nil {
			t.Fatalf("a command sent a byte per 50 ms: %v, want the connection closed", err)
		}
	}
}

func TestIdleOutlastsTheLineBound(t *testing.T) {
	env := newEnv(t, withConns(abuse.ConnConfig{LineTimeout: 100 * time.Millisecond, MinLineRate: 1000}))
	a := "alice@example.org"
	var u updates
	c := env.dial(t, a, u.handler())
	mustSelect(t, c, "INBOX", false)
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // ten line bounds of silence
	env.deliver(t, a, "INBOX", "", plainMsg)
	waitFor(t, 5*time.Second, "EXISTS 1 during IDLE", func() bool { return u.lastExists() == 1 })
	time.Sleep(500 * time.Millisecond)
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("IDLE after %v of silence: %v", time.Second, err)
	}
	if _, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{UID: true}).Collect(); err != nil {
		t.Fatalf("FETCH after IDLE: %v", err)
	}
}

// TestPreLoginTimeout: Config.Timeouts (--imap-prelogin-timeout) bounds
// the wait for a command before login: the session says BYE and closes.
// A logged-in session is not bound by it.
func TestPreLoginTimeout(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Timeouts = engine.Timeouts{PreLogin: 500 * time.Millisecond} })
	_, r := testenv.RawDial(t, env.plainAddr)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* BYE") {
		t.Fatalf("silent before login: %q, %v; want * BYE", line, err)
	}
	if _, err := r.ReadString('\n'); !testenv.ClosedByPeer(err) {
		t.Fatalf("after the BYE: %v, want the connection closed", err)
	}
	tr := rawLogin(t, env, "alice@example.org")
	time.Sleep(2 * time.Second) // four pre-login bounds
	tr.send("n1 NOOP")
	tr.expect("n1 OK")
}
