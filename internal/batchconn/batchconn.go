// Package batchconn gathers the small writes of a request/response server
// into few system calls. Protocol libraries flush after every response
// line (go-imap flushes each FETCH response), so a UID FETCH 1:* of 10,000
// messages costs 10,000 write calls. A batched connection keeps what is
// written until the server reads again, which is when it has nothing more
// to say before the client's next command, or until a batch is full.
//
// Writes made while a Read is waiting (IDLE updates, a BYE from another
// goroutine) go out at once, so nothing a client waits for is held back.
package batchconn

import (
	"net"
	"sync"
	"time"
)

// Max is the size of a batch: more than this goes out at once.
const Max = 32 << 10

// flushTimeout bounds the write of a batch on the way to a Read, when the
// server's own write deadline is no longer set: a client that stops reading
// cannot hold the connection forever.
const flushTimeout = 30 * time.Second

var pool = sync.Pool{New: func() any { b := make([]byte, 0, Max); return &b }}

// Listener batches the writes of every connection it accepts. Wrap the
// plain listener, under any TLS, so that TLS sees the connections' real
// type and records are what gets batched.
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return New(c), nil
}

// Conn is a connection whose writes are batched until the next Read.
type Conn struct {
	net.Conn

	mu       sync.Mutex
	buf      *[]byte // from pool while it holds bytes, else nil
	reading  bool    // a Read is waiting: writes go out at once
	deadline time.Time
	err      error // the first failed write: later ones fail the same
}

// New batches the writes of c.
func New(c net.Conn) *Conn { return &Conn{Conn: c} }

// Write keeps p for the next flush, or writes it out now if a Read is
// waiting or the batch would grow beyond Max.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.reading || c.pending()+len(p) > Max {
		if err := c.flushLocked(false); err != nil {
			return 0, err
		}
		if c.reading || len(p) > Max {
			n, err := c.Conn.Write(p)
			if err != nil {
				c.err = err
			}
			return n, err
		}
	}
	if c.buf == nil {
		c.buf = pool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// Read sends what is batched, then reads.
func (c *Conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	err := c.flushLocked(true)
	c.reading = err == nil
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.reading = false
	c.mu.Unlock()
	return n, err
}

// Flush sends what is batched.
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked(true)
}

// Close sends what is batched (a BYE, say), then closes.
func (c *Conn) Close() error {
	c.mu.Lock()
	_ = c.flushLocked(true)
	c.mu.Unlock()
	return c.Conn.Close()
}

// soon is how close a deadline must be for the batch to go out before it
// applies: TLS gives its close_notify 5 seconds, then sets the deadline to
// now so that nothing is written after it.
const soon = 10 * time.Second

// flushBefore sends the batch under the deadline in force if t would cut
// it short.
func (c *Conn) flushBefore(t time.Time) {
	if !t.IsZero() && time.Until(t) < soon {
		_ = c.flushLocked(true)
	}
}

// SetWriteDeadline applies to the writes that go out, now or at a flush.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	c.flushBefore(t)
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	c.flushBefore(t)
	return c.Conn.SetDeadline(t)
}

func (c *Conn) pending() int {
	if c.buf == nil {
		return 0
	}
	return len(*c.buf)
}

// flushLocked writes the batch out. bounded: with no write deadline set,
// one of flushTimeout applies to this write only.
func (c *Conn) flushLocked(bounded bool) error {
	if c.err != nil {
		return c.err
	}
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	defer func() {
		*b = (*b)[:0]
		pool.Put(b)
	}()
	if bounded && c.deadline.IsZero() {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(flushTimeout))
		defer c.Conn.SetWriteDeadline(time.Time{})
	}
	if _, err := c.Conn.Write(*b); err != nil {
		c.err = err
		return err
	}
	return nil
}
