// Package managesieve is a ManageSieve server (RFC 5804): mail clients'
// filter editors upload, list, activate and delete the user's Sieve
// scripts over it. Scripts live in sievestore; the server keeps no state
// besides its open sessions.
package managesieve

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/connset"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Config configures a Server.
type Config struct {
	// Hostname is named in the greeting.
	Hostname string
	// TLS enables STARTTLS; nil means none, and then logins are refused
	// unless AllowInsecureAuth.
	TLS *tls.Config
	// AllowInsecureAuth allows AUTHENTICATE before TLS (tests, loopback).
	AllowInsecureAuth bool
	Auth              *auth.Authenticator
	Scripts           *sievestore.Scripts
	// Log receives a line per login and the details of failures; nil
	// discards.
	Log *slog.Logger
	// Limits are the abuse limits of the other protocols (connections per
	// IP, failed logins); nil: none.
	Limits *abuse.Limits
	// Conns caps the connections and bounds TLS handshakes and lines.
	Conns abuse.ConnConfig
}

// idleTimeout ends a session that sends nothing (RFC 5804 section 1.8
// leaves it to the server; IMAP's 30 minutes is plenty).
const idleTimeout = 30 * time.Minute

// protocol names this server in logs.
const protocol = "managesieve"

// Server is a ManageSieve server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	login func(ctx context.Context, username, password string) (store.User, error)

	ctx    context.Context
	cancel context.CancelFunc

	open connset.Set // listeners and open connections
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Auth != nil {
		s.login = cfg.Auth.Login
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// capRefusal answers a connection over the listener's caps (RFC 5804
// section 1.3: BYE with TRYLATER).
const capRefusal = "BYE (TRYLATER) \"Too many connections, try again later\"\r\n"

// Serve accepts connections on ln until Close and serves each in its own
// goroutine. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	return s.open.Serve(s.cfg.Conns.Listener(ln, nil, capRefusal), s.handle)
}

func (s *Server) handle(c net.Conn) {
	if !s.cfg.Limits.Connect(s.ctx, abuse.ClientIP(c.RemoteAddr())) {
		_, _ = c.Write([]byte("BYE (TRYLATER) \"Too many connections from your address\"\r\n"))
		return
	}
	newSession(s, c).serve(s.ctx)
}

// Close stops every listener and session and waits for the sessions.
func (s *Server) Close() error {
	err := s.open.Close()
	s.cancel()
	return err
}

// Shutdown is Close for the process's stoppers.
func (s *Server) Shutdown(ctx context.Context) error { return s.Close() }
