package proxyproto

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// serveOne wraps a loopback listener trusting trusted and returns the
// first accepted connection's remote address and first line, or the
// Accept error.
func listen(t *testing.T, trusted string, timeout time.Duration) net.Listener {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseCIDRs(trusted)
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(raw, p, timeout, nil)
	t.Cleanup(func() { ln.Close() })
	return ln
}

func dial(t *testing.T, ln net.Listener, send []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(send); err != nil {
		t.Fatal(err)
	}
	return c
}

func acceptLine(t *testing.T, ln net.Listener) (net.Conn, string) {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		line, err := bufio.NewReader(r.c).ReadString('\n')
		if err != nil {
			t.Fatalf("reading the client's line: %v", err)
		}
		return r.c, line
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not return")
		return nil, ""
	}
}

func TestListenerTrusted(t *testing.T) {
	ln := listen(t, "127.0.0.0/8", 0)
	dial(t, ln, append(v2(cmdProxy, famTCP4, tcp4("203.0.113.5", "198.51.100.1", 4242, 25)), "EHLO x\r\n"...))
	c, line := acceptLine(t, ln)
	if got := c.RemoteAddr().String(); got != "203.0.113.5:4242" {
		t.Errorf("RemoteAddr = %s", got)
	}
	if got := c.LocalAddr().String(); got != "198.51.100.1:25" {
		t.Errorf("LocalAddr = %s", got)
	}
	if line != "EHLO x\r\n" {
		t.Errorf("line = %q", line)
	}
}

func TestListenerLocalKeepsRealAddress(t *testing.T) {
	ln := listen(t, "127.0.0.1", 0)
	client := dial(t, ln, append(v2(cmdLocal, famUnspec, nil), "NOOP\r\n"...))
	c, _ := acceptLine(t, ln)
	if c.RemoteAddr().String() != client.LocalAddr().String() {
		t.Errorf("RemoteAddr = %s, want the real %s", c.RemoteAddr(), client.LocalAddr())
	}
}

func TestListenerUntrustedIsPlain(t *testing.T) {
	ln := listen(t, "10.0.0.0/8", 0)
	hdr := "PROXY TCP4 203.0.113.5 198.51.100.1 4242 25\r\n"
	client := dial(t, ln, []byte(hdr))
	c, line := acceptLine(t, ln)
	if line != hdr {
		t.Errorf("the protocol got %q, want the header itself", line)
	}
	if c.RemoteAddr().String() != client.LocalAddr().String() {
		t.Errorf("RemoteAddr = %s, want the real %s", c.RemoteAddr(), client.LocalAddr())
	}
}

func TestListenerBadHeaderClosed(t *testing.T) {
	ln := listen(t, "127.0.0.0/8", 0)
	bad := dial(t, ln, []byte("EHLO no-header\r\n"))
	_ = bad.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(bad); err != nil {
		t.Fatalf("a connection without a header should be closed, got %v", err)
	}
	// The listener still serves the next connection.
	dial(t, ln, append([]byte("PROXY TCP4 192.0.2.9 192.0.2.1 9 25\r\n"), "NOOP\r\n"...))
	c, _ := acceptLine(t, ln)
	if c.RemoteAddr().String() != "192.0.2.9:9" {
		t.Errorf("RemoteAddr = %s", c.RemoteAddr())
	}
}

func TestListenerSlowHeaderTimesOut(t *testing.T) {
	ln := listen(t, "127.0.0.0/8", 100*time.Millisecond)
	slow := dial(t, ln, []byte("PROXY TCP4 "))
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(slow); err != nil {
		t.Fatalf("a stalled header should be closed after the timeout, got %v", err)
	}
}

func TestNoTrustedReturnsListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if NewListener(raw, []netip.Prefix(nil), 0, nil) != raw {
		t.Error("NewListener without trusted prefixes should return ln")
	}
}

func TestListenerClose(t *testing.T) {
	ln := listen(t, "127.0.0.0/8", 0)
	done := make(chan error, 1)
	go func() { _, err := ln.Accept(); done <- err }()
	ln.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Accept after Close returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}
