package imapgw

import (
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/batchconn"
)

// closePoll is how often a running command looks whether its client has
// closed the connection. Nobody reads the connection while a command
// runs, so its end is only seen by asking the socket.
const closePoll = 100 * time.Millisecond

// errGone answers a command cancelled because its client left; nobody
// reads it.
var errGone = &imap.Error{Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodeUnavailable, Text: "Connection closed"}

// watch looks, every closePoll until the returned stop is called, whether
// the client has closed the connection, and if so cancels the session's
// context, which ends the command's storage calls and loops (invariant 9:
// a closed connection cancels its work). Commands that may run long call
// it: defer s.watch()().
func (s *session) watch() (stop func()) {
	sock := socketOf(s.conn.NetConn())
	if sock == nil {
		return func() {}
	}
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(closePoll, func() {
		if peerClosed(sock) {
			s.log.Info("imap client gone, command cancelled")
			s.cancel()
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			t.Reset(closePoll)
		}
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// gone reports whether the session's work is cancelled, the client having
// left or the server closing: loops over messages stop at once.
func (s *session) gone() error {
	if s.ctx.Err() != nil {
		return errGone
	}
	return nil
}

// socketOf returns the socket under c, through TLS and write batching;
// nil when there is none (a pipe in a test, say).
func socketOf(c net.Conn) syscall.RawConn {
	for range 8 {
		switch v := c.(type) {
		case *batchconn.Conn:
			c = v.Conn
		case syscall.Conn:
			rc, err := v.SyscallConn()
			if err != nil {
				return nil
			}
			return rc
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
