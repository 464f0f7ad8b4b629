package imapgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/store"
)

// session is one IMAP connection, the engine.Conn's session value. The
// engine runs its commands one at a time, except that IDLE runs the Idle
// hook in its own goroutine while it reads DONE: mu serialises every use
// of sel.
type session struct {
	srv  *Server
	nc   net.Conn     // as accepted
	conn *engine.Conn // set by every command (at)
	log  *slog.Logger
	// ctx is the context of the session's work, cancelled when the
	// connection ends or a command sees the client gone (cancel.go).
	ctx    context.Context
	cancel context.CancelFunc
	// connCtx is the engine's: Shutdown cancels it, and the session
	// says BYE between commands.
	connCtx context.Context
	bye     context.CancelFunc
	done    chan struct{} // closed when the session has ended
	// implicitTLS: the connection came in on the implicit-TLS port.
	implicitTLS bool

	user store.User // zero until Login
	// appending is the running APPEND's accepted messages (append.go).
	appending appending

	mu    sync.Mutex
	sel   *selected // nil unless a mailbox is selected
	ahead readAhead // under mu
}

// newSession makes the session of a new connection; nil once Shutdown
// has begun.
func (s *Server) newSession(nc net.Conn, implicitTLS bool) *session {
	ctx, cancel := context.WithCancel(s.ctx)
	connCtx, bye := context.WithCancel(context.Background())
	sess := &session{
		srv: s, nc: nc, ctx: ctx, cancel: cancel, connCtx: connCtx, bye: bye,
		done: make(chan struct{}), implicitTLS: implicitTLS,
		log: s.log.With(slog.String("protocol", protocol),
			slog.String("remote", nc.RemoteAddr().String())),
	}
	if !s.live.add(sess) {
		cancel()
		bye()
		return nil
	}
	s.met.Sessions.WithLabelValues(protocol).Inc()
	return sess
}

// close ends the session (the connection is gone).
func (s *session) close() {
	s.cancel()
	s.bye()
	s.mu.Lock()
	s.sel = nil
	s.mu.Unlock()
	s.srv.live.remove(s)
	s.srv.met.Sessions.WithLabelValues(protocol).Dec()
	close(s.done)
}

// at returns the session of c, which the running command uses.
func at(c *engine.Conn) *session {
	s := c.Session().(*session)
	s.conn = c
	return s
}

// handler adapts a session method to an engine.Handler.
func handler(f func(s *session, cmd *wire.Command) error) engine.Handler {
	return func(_ context.Context, c *engine.Conn, cmd *wire.Command) error {
		return f(at(c), cmd)
	}
}

// secure reports whether c is encrypted: implicit TLS, or STARTTLS ran.
func secure(c *engine.Conn) bool {
	if c.TLS() {
		return true
	}
	s, ok := c.Session().(*session)
	return ok && s.implicitTLS
}

// errPrivacyRequired refuses a login before TLS (RFC 9051 section 6.2.3).
var errPrivacyRequired = &imap.Error{Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodePrivacyRequired, Text: "TLS is required to log in"}

// errLoginFailed is any failed login; the engine answers it NO
// [AUTHENTICATIONFAILED].
var errLoginFailed = errors.New("login failed")

// login checks the credentials of LOGIN and AUTHENTICATE PLAIN, only once
// TLS is up unless AllowInsecureAuth.
//
// The work runs on a goroutine of its own: the directory and index calls
// (SQLite in particular) grow a goroutine's stack to tens of KiB, and the
// connection's goroutine, which then waits for the next command for
// minutes or hours, would keep that stack until the collector shrinks it
// by halves. A panic is carried back, to end this session only.
func (srv *Server) login(_ context.Context, c *engine.Conn, username, password string) error {
	s := at(c)
	if !secure(c) && !srv.cfg.AllowInsecureAuth {
		return errPrivacyRequired
	}
	type result struct {
		err   error
		panic string
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if v := recover(); v != nil {
				r.panic = fmt.Sprintf("%v\n%s", v, debug.Stack())
			}
			done <- r
		}()
		r.err = s.login(username, password)
	}()
	r := <-done
	if r.panic != "" {
		panic("imap login: " + r.panic)
	}
	return r.err
}

func (s *session) login(username, password string) error {
	name := auth.NormalizeName(username)
	att, ok := s.beginLogin(name)
	if !ok {
		return errAuthBlocked
	}
	u, err := s.srv.cfg.Auth.Login(s.ctx, name, password)
	if errors.Is(err, auth.ErrFailed) {
		s.loginFailed(att, name)
		return errLoginFailed
	}
	if err != nil {
		att.Abandon(s.ctx)
		s.log.Error("imap login: directory failure", slog.String("username", name), slog.Any("err", err))
		return errUnavailable
	}
	att.Succeeded(s.ctx)
	// Default mailboxes with their special-use attributes (RFC 6154).
	if err := s.srv.cfg.Store.EnsureUser(s.ctx, u.ID); err != nil {
		s.log.Error("imap login: ensure mailboxes", slog.String("user_id", u.ID), slog.Any("err", err))
		return errUnavailable
	}
	u.PasswordHash = "" // not needed for the session's hours of idling
	s.user = u
	s.log = s.log.With(slog.String("user_id", u.ID))
	s.log.Info("imap login", slog.String("address", u.Address))
	return nil
}

// unauthenticate answers UNAUTHENTICATE (RFC 8437): the session is back
// in the not authenticated state, with nothing of the user kept: the
// selected mailbox is left without expunges (and with it the SEARCHRES
// result, RFC 8437 section 4.1), the partial-fetch window, the user and
// its log attribute; the engine resets the rest (engine.Conn.Unauthenticate:
// enabled extensions, COMPRESS).
func (s *session) unauthenticate(cmd *wire.Command) error {
	s.mu.Lock()
	s.sel = nil
	s.ahead = readAhead{}
	s.mu.Unlock()
	s.user = store.User{}
	s.appending = appending{}
	s.log = s.srv.log.With(slog.String("protocol", protocol),
		slog.String("remote", s.nc.RemoteAddr().String()))
	return s.conn.Unauthenticate(cmd.Tag)
}

// namespace announces a single personal namespace (RFC 2342).
func (s *session) namespace(cmd *wire.Command) error {
	s.conn.Writer().Start().Atom("NAMESPACE").BeginList().BeginList().
		Quoted("").Quoted(string(store.Delimiter)).EndList().EndList().Nil().Nil().End()
	return nil
}

// mailboxes is the index, shorthand.
func (s *session) mailboxes() store.Mailboxes { return s.srv.cfg.Store }
