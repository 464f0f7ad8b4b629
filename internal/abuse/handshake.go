package abuse

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// TLSListener wraps ln so that each connection is a *tls.Conn whose
// handshake completed within TLSHandshakeTimeout (RFC 8314 implicit TLS).
// Handshakes run concurrently, so that a client that never sends its
// ClientHello holds neither Accept nor, past the timeout, a connection.
func (c ConnConfig) TLSListener(ln net.Listener, cfg *tls.Config) net.Listener {
	l := &tlsListener{Listener: ln, cfg: cfg, timeout: c.TLSHandshakeTimeout(), log: c.log(),
		ready: make(chan net.Conn), errs: make(chan error), done: make(chan struct{}),
		failed: make(chan struct{})}
	go l.acceptLoop()
	return l
}

type tlsListener struct {
	net.Listener
	cfg     *tls.Config
	timeout time.Duration
	log     *slog.Logger
	ready   chan net.Conn // handshaken connections
	errs    chan error    // Accept errors of ln
	done    chan struct{} // closed by Close
	once    sync.Once
	failed  chan struct{} // closed when ln failed for good, with err
	err     error
	// calls is touched by Accept and Close, as a socket's Accept and
	// Close touch its lock, so that what a server did before Accept
	// happens before Close: imapserver's Serve adds to the WaitGroup
	// that its Close waits on after calling Accept, not under a lock.
	calls atomic.Int64
}

func (l *tlsListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // the server backs off and calls Accept again
			}
			l.err = err
			close(l.failed)
			return
		}
		go l.handshake(c)
	}
}

func (l *tlsListener) handshake(c net.Conn) {
	tc := tls.Server(c, l.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		l.log.Debug("tls handshake failed", slog.String("client_ip", ClientIP(c.RemoteAddr())),
			slog.String("error", err.Error()))
		c.Close()
		return
	}
	select {
	case l.ready <- tc:
	case <-l.done:
		tc.Close()
	}
}

// Accept returns the next handshaken connection.
func (l *tlsListener) Accept() (net.Conn, error) {
	l.calls.Add(1)
	select {
	case c := <-l.ready:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.failed:
		return nil, l.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections still in their handshake are
// closed when it ends.
func (l *tlsListener) Close() error {
	l.calls.Add(1)
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// StartTLSConfig returns cfg for STARTTLS/STLS, whose handshake the
// server runs itself: once the ClientHello is in, the rest of the
// handshake must complete within TLSHandshakeTimeout. The wait for the
// ClientHello is the protocol's own read timeout. Nil stays nil.
func (c ConnConfig) StartTLSConfig(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		return nil
	}
	cfg = cfg.Clone()
	next := cfg.GetConfigForClient
	timeout := c.TLSHandshakeTimeout()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		// The server sets its own deadlines again after the handshake.
		_ = hello.Conn.SetDeadline(time.Now().Add(timeout))
		if next != nil {
			return next(hello)
		}
		return nil, nil
	}
	return cfg
}
