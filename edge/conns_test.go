package edge

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func withConns(cc abuse.ConnConfig) func(*Config) {
	return func(c *Config) { c.Conns = cc }
}

func TestMaxConnectionsRefusedAtGreeting(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{MaxConns: 2}))
	first, second := e.dial(MX, false), e.dial(MX, false)
	c, r := testenv.RawDial(t, e.addr[MX])
	line, err := r.ReadString('\n')
	if want := "421 4.7.0 " + testHostname + " Too many connections, try again later\r\n"; err != nil || line != want {
		t.Fatalf("third connection: %q, %v; want %q", line, err, want)
	}
	if _, err := r.ReadString('\n'); !testenv.ClosedByPeer(err) {
		t.Fatalf("after the refusal: %v, want the connection closed", err)
	}
	c.Close()
	for _, cl := range []interface{ Noop() error }{first, second} {
		if err := cl.Noop(); err != nil {
			t.Fatalf("a connection within the cap: NOOP: %v", err)
		}
	}
	// The cap is per listener.
	if err := e.dial(Submission, false).Noop(); err != nil {
		t.Fatal(err)
	}
}

func TestImplicitTLSWithoutClientHelloIsClosed(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{HandshakeTimeout: 200 * time.Millisecond}))
	_, r := testenv.RawDial(t, e.addr[SubmissionTLS])
	if _, err := r.ReadByte(); !testenv.ClosedByPeer(err) {
		t.Fatalf("SMTPS without a ClientHello: %v, want closed by the server", err)
	}
	// A client that does the handshake gets its greeting.
	c, err := tls.Dial("tcp", e.addr[SubmissionTLS], e.client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting %q, %v", line, err)
	}
}

func TestTrickledCommandLineIsCut(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{LineTimeout: 300 * time.Millisecond, MinLineRate: 1000}))
	c, r := testenv.RawDial(t, e.addr[MX])
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting %q, %v", line, err)
	}
	go func() {
		for _, b := range []byte("EHLO " + strings.Repeat("x", 200) + "\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	// go-smtp's reader hands the part read so far on as a line (bufio's
	// ReadLine drops the read error), so an answer to it may come first.
	var line string
	var err error
	for !strings.HasPrefix(line, "421 ") {
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatalf("a line sent a byte per 50 ms: %v before a 421 4.4.2", err)
		}
	}
	if !strings.HasPrefix(line, "421 4.4.2 ") {
		t.Fatalf("a line sent a byte per 50 ms: %q, want 421 4.4.2", line)
	}
	if _, err := r.ReadString('\n'); !testenv.ClosedByPeer(err) {
		t.Fatalf("after the 421: %v, want the connection closed", err)
	}
}

// stalledConn sends what is written to it and never delivers a byte.
type stalledConn struct {
	net.Conn
	done <-chan struct{}
}

func (c stalledConn) Read([]byte) (int, error) {
	<-c.done
	return 0, io.EOF
}

func TestStartTLSHandshakeIsBounded(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{HandshakeTimeout: 200 * time.Millisecond}))
	c, r := testenv.RawDial(t, e.addr[Submission])
	for _, cmd := range []string{"", "EHLO client.example\r\n", "STARTTLS\r\n"} {
		if _, err := io.WriteString(c, cmd); err != nil {
			t.Fatal(err)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", cmd, err)
			}
			if line[3] == ' ' {
				break
			}
		}
	}
	// The ClientHello goes out; the client never reads the server's
	// answer, so the server waits for a Finished that never comes.
	go func() {
		_ = tls.Client(stalledConn{c, t.Context().Done()}, e.client).Handshake()
	}()
	var seen strings.Builder
	for !strings.Contains(seen.String(), "550 5.0.0 Handshake error") {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("waiting for the end of a stalled STARTTLS handshake: %v", err)
		}
		seen.WriteByte(b)
	}
}

func TestTrickledDataIsCutAndNotQueued(t *testing.T) {
	e := newEnv(t, withConns(abuse.ConnConfig{LineTimeout: 300 * time.Millisecond, MinLineRate: 1000}))
	c, r := testenv.RawDial(t, e.addr[MX])
	for _, cmd := range []string{"", "EHLO client.example\r\n", "MAIL FROM:<someone@remote.example>\r\n",
		"RCPT TO:<" + alice + ">\r\n", "DATA\r\n"} {
		if _, err := io.WriteString(c, cmd); err != nil {
			t.Fatal(err)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", cmd, err)
			}
			if line[3] == ' ' {
				break
			}
		}
	}
	go func() {
		for _, b := range []byte("Subject: slow\r\n\r\n" + strings.Repeat("x", 300) + "\r\n.\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	for {
		line, err := r.ReadString('\n')
		if testenv.ClosedByPeer(err) {
			break
		}
		if err != nil {
			t.Fatalf("a body sent a byte per 50 ms: %v, want the connection closed", err)
		}
		if strings.HasPrefix(line, "250") {
			t.Fatalf("a cut body was acknowledged: %q", line)
		}
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 0 {
		t.Fatalf("%d jobs queued for a cut body", len(jobs))
	}
}
