package proxyproto

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds the reading of one PROXY header.
const DefaultTimeout = 5 * time.Second

// ParseCIDRs parses a comma-separated list of CIDR prefixes (a bare
// address counts as a /32 or /128). An empty string gives nil.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("proxyproto: %q: %w", f, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("proxyproto: %q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Listener reads a PROXY header on every connection from a trusted network
// before handing it out; other connections are handed out untouched, so
// that a header sent by anyone else reaches the protocol as garbage.
//
// Headers are read in a goroutine per connection, with a deadline: a slow
// balancer connection never holds up Accept.
type Listener struct {
	net.Listener
	trusted []netip.Prefix
	timeout time.Duration
	log     *slog.Logger

	ready chan acceptResult
	done  chan struct{}
	once  sync.Once
}

type acceptResult struct {
	c   net.Conn
	err error
}

// NewListener wraps ln. With no trusted prefixes it returns ln itself.
// timeout <= 0 means DefaultTimeout; log may be nil.
func NewListener(ln net.Listener, trusted []netip.Prefix, timeout time.Duration, log *slog.Logger) net.Listener {
	if len(trusted) == 0 {
		return ln
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Listener{Listener: ln, trusted: trusted, timeout: timeout, log: log,
		ready: make(chan acceptResult), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

// Accept returns the next connection whose header (if it needs one) was
// read.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case r := <-l.ready:
		return r.c, r.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the underlying listener and stops handing out connections.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *Listener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			temporary := errors.As(err, &ne) && ne.Timeout()
			if !l.deliver(acceptResult{err: err}) || !temporary {
				return
			}
			continue
		}
		if !l.trustedAddr(c.RemoteAddr()) {
			if !l.deliver(acceptResult{c: c}) {
				c.Close()
				return
			}
			continue
		}
		go l.handshake(c)
	}
}

// deliver hands r to Accept; false once the listener is closed.
func (l *Listener) deliver(r acceptResult) bool {
	select {
	case l.ready <- r:
		return true
	case <-l.done:
		return false
	}
}

func (l *Listener) trustedAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip := ta.AddrPort().Addr().Unmap()
	for _, p := range l.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// handshake reads the header of a trusted connection; a connection without
// a valid header is closed.
func (l *Listener) handshake(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(l.timeout))
	br := bufio.NewReader(c)
	h, err := Parse(br)
	if err != nil {
		l.log.Warn("proxy protocol header refused", slog.String("peer", c.RemoteAddr().String()), slog.String("error", err.Error()))
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	pc := &Conn{Conn: c, r: br, remote: c.RemoteAddr(), local: c.LocalAddr()}
	if !h.Local {
		pc.remote, pc.local = h.Source, h.Dest
	}
	if !l.deliver(acceptResult{c: pc}) {
		c.Close()
	}
}

// Conn is a connection whose PROXY header was read: RemoteAddr is the
// client's address (the balancer's for a LOCAL header).
type Conn struct {
	net.Conn
	r             *bufio.Reader // holds what the client sent after the header
	remote, local net.Addr
}

// Read reads the client's data that follows the header.
func (c *Conn) Read(p []byte) (int, error) { return c.r.Read(p) }

// RemoteAddr returns the client's address from the header.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr returns the address the client connected to, from the header.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// NetConn returns the connection under the header, so that callers can
// reach its socket (the IMAP gateway watches it for a client that left).
func (c *Conn) NetConn() net.Conn { return c.Conn }
