package testenv

import (
	"bufio"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// RawDial connects to addr in the clear and returns the connection and a
// reader of it whose reads give up after 10 s; the connection is closed
// when the test ends.
func RawDial(t testing.TB, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// ClosedByPeer reports whether err is how a read sees a connection the
// other side closed (EOF) or reset.
func ClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// WantClosed reads r until the server closes the connection; an answer on
// the way is fine, the reader's own deadline (what) is a failure.
func WantClosed(t testing.TB, r *bufio.Reader, what string) {
	t.Helper()
	for {
		_, err := r.ReadString('\n')
		if ClosedByPeer(err) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v, want the connection closed by the server", what, err)
		}
	}
}
