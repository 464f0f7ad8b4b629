package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Server runs the SMTP listeners of one process. All listeners share the
// configuration and the storage; each has its own go-smtp server because the
// TLS and AUTH behaviour depends on the mode.
type Server struct {
	cfg Config
	ctx context.Context // storage calls; cancelled by Close
	end context.CancelFunc

	mu      sync.Mutex
	closed  bool
	servers []*smtp.Server
	live    liveConns // for Shutdown
}

// New returns a Server; Serve starts listeners on it.
func New(cfg Config) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg.withDefaults(), ctx: ctx, end: cancel}
}

// Serve answers SMTP on ln in the given mode until Close. For SubmissionTLS
// it wraps ln in TLS itself. It returns nil after Close.
func (s *Server) Serve(ln net.Listener, mode Mode) error {
	var implicit *tls.Config
	if mode == SubmissionTLS {
		if s.cfg.TLS == nil {
			return errors.New("edge: implicit TLS needs a TLS configuration")
		}
		implicit = s.cfg.TLS
	}
	// On the socket: connections count from the accept, and lines are
	// bounded whatever the TLS state.
	ln = s.cfg.Conns.Listener(ln, implicit, s.capRefusal())
	ln = s.live.wrap(ln) // under TLS, so Shutdown reaches the socket
	if implicit != nil {
		ln = s.cfg.Conns.TLSListener(ln, implicit)
	}
	// Over TLS, so that an implicit-TLS client can read the refusal.
	ln = s.cfg.Limits.Listener(ln, s.connRefusal())
	if mode != MX && s.cfg.Auth == nil {
		return errors.New("edge: submission needs an authenticator")
	}
	if s.cfg.Dir == nil || s.cfg.Queue == nil || s.cfg.Blobs == nil {
		return errors.New("edge: Dir, Queue and Blobs are required")
	}
	srv := s.newSMTPServer(mode)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return smtp.ErrServerClosed
	}
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	s.cfg.Log.Info("smtp listening", slog.String("addr", ln.Addr().String()), slog.String("mode", mode.String()))
	return srv.Serve(ln)
}

func (s *Server) newSMTPServer(mode Mode) *smtp.Server {
	srv := smtp.NewServer(&backend{srv: s, mode: mode})
	srv.Domain = s.cfg.Hostname
	srv.TLSConfig = s.cfg.Conns.StartTLSConfig(s.cfg.TLS)
	srv.MaxMessageBytes = s.cfg.MaxMessageSize
	// The session enforces the recipient limit itself, so that refusals
	// are counted and logged; go-smtp would answer before asking us.
	srv.MaxRecipients = 0
	srv.AllowInsecureAuth = s.cfg.AllowInsecureAuth
	srv.EnableSMTPUTF8 = true
	srv.ReadTimeout = readTimeout
	srv.WriteTimeout = writeTimeout
	srv.ErrorLog = slogPrinter{log: s.cfg.Log.With(slog.String("listener", mode.String()))}
	return srv
}

// Close stops every listener and closes every connection at once. A
// transaction cut short never gets its 250, so nothing acknowledged is lost.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	s.end()
	var errs []error
	for _, srv := range servers {
		if err := srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops accepting connections, answers 421 to the next command of
// every connection without an open transaction, lets open transactions
// finish (DATA gets its 250 or error) and waits until their sessions end
// or ctx is done; then it closes what remains.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	servers := s.servers
	s.mu.Unlock()
	stop := make(chan struct{})
	defer close(stop)
	go s.live.nudgeUntil(stop)
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, s.Close())...)
}

// backend makes sessions for one listener.
type backend struct {
	srv  *Server
	mode Mode
}

// NewSession is called on the first HELO/EHLO of a connection, and again
// after STARTTLS.
func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	sess := newSession(b.srv, b.mode, c)
	if b.mode == MX {
		return sess, nil
	}
	return &submissionSession{session: sess}, nil
}

// slogPrinter routes go-smtp's internal error log to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("smtp server", slog.String("error", fmt.Sprintf(format, v...)))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("smtp server", slog.String("error", fmt.Sprintln(v...)))
}

var _ smtp.Logger = slogPrinter{}

// observe times one storage call: defer s.observe("blob", "put")().
func (s *Server) observe(backend, op string) func() {
	start := time.Now()
	return func() {
		s.cfg.Metrics.StorageLatency.WithLabelValues(backend, op).Observe(time.Since(start).Seconds())
	}
}
