package abuse

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of ConnConfig's zero durations and rates.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMinLineRate      = 1024 // bytes per second
)

// maxRefusing bounds the refusals in flight per listener (each may first
// need a TLS handshake); beyond it, a connection over a cap is closed
// without a word, so that a flood costs no more than the caps allow.
const maxRefusing = 100

// ConnConfig holds the limits on the connections of one listener. They are
// counted in the process, not in the store: concurrency is a property of
// the node, unlike the per-minute rate of Config.ConnPerIPMinute.
type ConnConfig struct {
	// MaxConns caps the open connections of one listener (0: no cap).
	MaxConns int
	// MaxConnsPerIP caps the open connections of one listener from one
	// client IP, or one IPv6 /64 (0: no cap). Loopback is exempt: there
	// every client of a local proxy or webmail shares one address.
	MaxConnsPerIP int
	// HandshakeTimeout bounds a TLS handshake: implicit TLS from the
	// accept on, STARTTLS from the ClientHello on (0:
	// DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// LineTimeout is how long the client may take to send a command
	// line, from its first byte to the server's answer; each byte received
	// buys 1/MinLineRate s more, so that a message body or a literal at a
	// reasonable rate is never cut (0: no bound). Time between commands
	// is not counted: the protocol's idle timeouts govern it.
	LineTimeout time.Duration
	// MinLineRate is the rate in bytes/s that keeps a long input going
	// after LineTimeout (0: DefaultMinLineRate).
	MinLineRate int64
	// Log receives the refusals and the cut lines; nil discards.
	Log *slog.Logger
}

// TLSHandshakeTimeout returns the bound of a TLS handshake.
func (c ConnConfig) TLSHandshakeTimeout() time.Duration {
	if c.HandshakeTimeout > 0 {
		return c.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

func (c ConnConfig) minLineRate() int64 {
	if c.MinLineRate > 0 {
		return c.MinLineRate
	}
	return DefaultMinLineRate
}

func (c ConnConfig) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Listener wraps ln (a raw listener, under any TLS) so that a connection
// over MaxConns or MaxConnsPerIP is answered with refusal (SMTP 421 4.7.0,
// IMAP BYE, POP3 -ERR) and closed instead of being handed out, and every
// connection handed out has its command lines bounded by LineTimeout.
// With tlsCfg (an implicit-TLS port), refusals are sent inside TLS.
func (c ConnConfig) Listener(ln net.Listener, tlsCfg *tls.Config, refusal string) net.Listener {
	return &capListener{Listener: ln, cfg: c, tls: tlsCfg, refusal: refusal,
		perIP: map[string]int{}}
}

type capListener struct {
	net.Listener
	cfg      ConnConfig
	tls      *tls.Config
	refusal  string
	refusing atomic.Int64

	mu    sync.Mutex
	total int
	perIP map[string]int
}

// Accept hands out the next connection within the caps.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := ipKey(c.RemoteAddr())
		if why := l.acquire(key); why != "" {
			l.cfg.log().Warn("connection refused", slog.String("client_ip", ClientIP(c.RemoteAddr())),
				slog.String("reason", why), slog.String("listener", l.Addr().String()))
			l.refuse(c)
			continue
		}
		return newGuardConn(c, l.cfg, func() { l.release(key) }), nil
	}
}

// acquire counts a connection from key ("" for loopback) and returns why
// it is over a cap, or "" when it is within them.
func (l *capListener) acquire(key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxConns > 0 && l.total >= l.cfg.MaxConns {
		return "max_connections"
	}
	if key != "" && l.cfg.MaxConnsPerIP > 0 && l.perIP[key] >= l.cfg.MaxConnsPerIP {
		return "max_connections_per_ip"
	}
	l.total++
	if key != "" {
		l.perIP[key]++
	}
	return ""
}

func (l *capListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if key == "" {
		return
	}
	if l.perIP[key]--; l.perIP[key] <= 0 {
		delete(l.perIP, key)
	}
}

// refuse sends the refusal in the background (after a bounded TLS
// handshake on implicit-TLS ports) and closes c.
func (l *capListener) refuse(c net.Conn) {
	if l.refusing.Add(1) > maxRefusing {
		l.refusing.Add(-1)
		c.Close()
		return
	}
	go func() {
		defer l.refusing.Add(-1)
		if l.tls != nil {
			c = tls.Server(c, l.tls)
		}
		refuse(c, l.refusal)
	}()
}

// ipKey is the key of the per-IP count: the address, an IPv6 /64 (one
// host's usual allocation), or "" for loopback (exempt).
func ipKey(a net.Addr) string {
	ip, err := netip.ParseAddr(ClientIP(a))
	if err != nil {
		return a.String()
	}
	switch {
	case ip.IsLoopback():
		return ""
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
