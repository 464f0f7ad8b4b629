// Package managesieve is a ManageSieve server (RFC 5804): mail clients'
// filter editors upload, list, activate and delete the user's Sieve
// scripts over it. Scripts live in sievestore; the server keeps no state
// besides its open sessions.
package managesieve

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
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

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	sessions  sync.WaitGroup
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Log, listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}}
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
	ln = s.cfg.Conns.Listener(ln, nil, capRefusal)
	if !s.track(ln) {
		ln.Close()
		return nil
	}
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			return err
		}
		backoff = 5 * time.Millisecond
		if !s.trackConn(c) {
			c.Close()
			return nil
		}
		go s.handle(c)
	}
}

func (s *Server) handle(c net.Conn) {
	defer s.sessions.Done()
	defer s.untrackConn(c)
	defer c.Close()
	if !s.cfg.Limits.Connect(s.ctx, abuse.ClientIP(c.RemoteAddr())) {
		_, _ = c.Write([]byte("BYE (TRYLATER) \"Too many connections from your address\"\r\n"))
		return
	}
	newSession(s, c).serve(s.ctx)
}

// Close stops every listener and session and waits for the sessions.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var errs []error
	for ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.sessions.Wait()
	s.cancel()
	return errors.Join(errs...)
}

// Shutdown is Close for the process's stoppers.
func (s *Server) Shutdown(ctx context.Context) error { return s.Close() }

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.sessions.Add(1)
	return true
}

func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}
