package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/connset"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Config configures a Server.
type Config struct {
	// Hostname is announced in the greeting.
	Hostname string
	// TLS enables STLS on plain listeners and is required for implicit TLS.
	// Nil means no TLS at all.
	TLS *tls.Config
	// AllowInsecureAuth allows USER/PASS and AUTH before TLS (RFC 2595
	// section 2.1 says a server should not). Meant for tests and loopback.
	AllowInsecureAuth bool
	Store             Store
	Blobs             blob.Store
	Auth              *auth.Authenticator
	// Log receives one line per session and the details of failures.
	// Nil discards.
	Log *slog.Logger
	// Metrics receives Sessions and AuthFailures with protocol="pop3".
	// Nil means a private set nobody scrapes.
	Metrics *metrics.Metrics
	// Limits are the abuse limits (connections per IP, failed logins);
	// nil: none.
	Limits *abuse.Limits
	// Conns caps the connections of each listener and bounds TLS
	// handshakes (implicit and STLS) and the time a command line may
	// take (zero: no caps, abuse.DefaultHandshakeTimeout, no line bound).
	Conns abuse.ConnConfig
}

// idleTimeout closes a session that sends nothing; RFC 1939 section 3
// asks for at least 10 minutes.
const idleTimeout = 10 * time.Minute

// protocol is the label of this server's metrics.
const protocol = "pop3"

// Server is a POP3 server. It keeps no state besides its open sessions and
// their maildrop locks.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Metrics
	// login checks credentials; it is cfg.Auth.Login.
	login func(ctx context.Context, username, password string) (store.User, error)
	locks lockMap

	ctx    context.Context // ends after Close has closed every session
	cancel context.CancelFunc

	open connset.Set // listeners and open connections
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Log, metrics: cfg.Metrics}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	if cfg.Auth != nil {
		s.login = cfg.Auth.Login
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// ErrNoTLS is returned by Serve for implicit TLS without Config.TLS.
var ErrNoTLS = errors.New("pop3: implicit TLS needs a TLS configuration")

// Serve accepts connections on ln until Close and serves each in its own
// goroutine. With implicitTLS every connection starts with a TLS handshake
// (port 995, RFC 8314); else STLS is offered when Config.TLS is set. Serve
// returns nil after Close, else the error that stopped it.
func (s *Server) Serve(ln net.Listener, implicitTLS bool) error {
	if implicitTLS && s.cfg.TLS == nil {
		return ErrNoTLS
	}
	return s.open.Serve(s.listener(ln, implicitTLS), func(c net.Conn) { s.handle(c, implicitTLS) })
}

// listener wraps ln in the connection caps and line bounds, and for
// implicit TLS in handshakes bounded by Conns.HandshakeTimeout.
func (s *Server) listener(ln net.Listener, implicitTLS bool) net.Listener {
	var implicit *tls.Config
	if implicitTLS {
		implicit = s.cfg.TLS
	}
	ln = s.cfg.Conns.Listener(ln, implicit, capRefusal)
	if implicitTLS {
		ln = s.cfg.Conns.TLSListener(ln, implicit)
	}
	return ln
}

// handle serves one connection (for implicit TLS, handshaken).
func (s *Server) handle(c net.Conn, implicitTLS bool) {
	if !s.connAllowed(c) {
		return
	}
	s.metrics.Sessions.WithLabelValues(protocol).Inc()
	defer s.metrics.Sessions.WithLabelValues(protocol).Dec()
	newSession(s, c, implicitTLS).serve(s.ctx)
}

// Close stops every listener and closes every session, then waits for the
// sessions to end. Marks of a session closed this way are not applied.
func (s *Server) Close() error {
	err := s.open.Close()
	s.cancel()
	return err
}

func (s *Server) isClosed() bool { return s.open.Stopped() }
