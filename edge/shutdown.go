package edge

import (
	"net"
	"sync"
	"time"
)

// nudgeInterval is how often Shutdown wakes the idle connections up.
const nudgeInterval = 100 * time.Millisecond

// liveConns tracks the accepted connections and the session of each, so
// that Shutdown can end the idle ones at once while transactions finish.
type liveConns struct {
	mu       sync.Mutex
	conns    map[*trackedConn]struct{}
	sessions map[*trackedConn]*session
}

// wrap makes ln register every connection it accepts.
func (l *liveConns) wrap(ln net.Listener) net.Listener {
	return trackingListener{Listener: ln, live: l}
}

type trackingListener struct {
	net.Listener
	live *liveConns
}

func (t trackingListener) Accept() (net.Conn, error) {
	c, err := t.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, live: t.live}
	t.live.mu.Lock()
	if t.live.conns == nil {
		t.live.conns = map[*trackedConn]struct{}{}
		t.live.sessions = map[*trackedConn]*session{}
	}
	t.live.conns[tc] = struct{}{}
	t.live.mu.Unlock()
	return tc, nil
}

// trackedConn leaves the set when closed.
type trackedConn struct {
	net.Conn
	live *liveConns
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.live.mu.Lock()
		delete(c.live.conns, c)
		delete(c.live.sessions, c)
		c.live.mu.Unlock()
	})
	return c.Conn.Close()
}

// tracked returns the trackedConn under c (TLS wraps it), or nil.
func tracked(c net.Conn) *trackedConn {
	for {
		switch x := c.(type) {
		case *trackedConn:
			return x
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return nil
		}
	}
}

// bind records sess as the session of its connection (a new one replaces
// the old after STARTTLS).
func (l *liveConns) bind(sess *session) {
	tc := tracked(sess.conn.Conn())
	if tc == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.conns[tc]; ok {
		l.sessions[tc] = sess
	}
}

// busy reports whether a transaction is open: after MAIL, until the end of
// DATA. The caller holds s.mu.
func (s *session) busyLocked() bool { return s.tx != nil || s.inData }

// nudgeIdle makes the pending read of every connection without an open
// transaction time out now, so go-smtp answers "421 4.4.2" and closes it
// (RFC 5321 section 3.8: a server shutting down may answer 421 to any
// command). Checking the transaction and moving the deadline under the
// session's lock means a MAIL accepted meanwhile keeps its connection:
// go-smtp sets a fresh deadline before the next read.
func (l *liveConns) nudgeIdle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for tc := range l.conns {
		sess := l.sessions[tc]
		if sess == nil {
			_ = tc.SetReadDeadline(now)
			continue
		}
		sess.mu.Lock()
		if !sess.busyLocked() {
			_ = tc.SetReadDeadline(now)
		}
		sess.mu.Unlock()
	}
}

// nudgeUntil calls nudgeIdle every nudgeInterval until stop is closed: a
// connection between two transactions, or just past its greeting, is
// caught at its next read.
func (l *liveConns) nudgeUntil(stop <-chan struct{}) {
	t := time.NewTicker(nudgeInterval)
	defer t.Stop()
	for {
		l.nudgeIdle()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (s *session) setInData(v bool) {
	s.mu.Lock()
	s.inData = v
	s.mu.Unlock()
}
