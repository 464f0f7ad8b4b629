package imapgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/store"
)

// session is one IMAP connection. imapserver calls its methods one command
// at a time, except that IDLE runs Idle in its own goroutine, which may
// outlive the command when reading DONE fails: mu serialises every use of
// sel, so a late poll from Idle never races a command.
type session struct {
	srv  *Server
	conn *imapserver.Conn
	log  *slog.Logger
	// ctx is the context of the session's work, cancelled when the
	// connection ends or a command sees the client gone (cancel.go).
	ctx    context.Context
	cancel context.CancelFunc

	user store.User // zero until Login

	mu    sync.Mutex
	sel   *selected // nil unless a mailbox is selected
	ahead readAhead // under mu
}

// session deliberately does not implement imapserver.SessionAppendLimit:
// imapserver would then refuse an oversized non-synchronizing (LITERAL+)
// APPEND literal without reading it, and parse the message's lines as
// commands. Append enforces the limit instead, after which imapserver
// discards the literal.
var _ imapserver.SessionIMAP4rev2 = (*session)(nil)

func (s *Server) newSession(conn *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	if !s.live.add(conn) {
		return nil, nil, errShuttingDown
	}
	s.met.Sessions.WithLabelValues(protocol).Inc()
	log := s.log.With(slog.String("protocol", protocol),
		slog.String("remote", conn.NetConn().RemoteAddr().String()))
	ctx, cancel := context.WithCancel(s.ctx)
	return &session{srv: s, conn: conn, log: log, ctx: ctx, cancel: cancel}, nil, nil
}

// Close ends the session (the connection is gone).
func (s *session) Close() error {
	s.cancel()
	s.mu.Lock()
	s.sel = nil
	s.mu.Unlock()
	s.srv.live.remove(s.conn)
	s.srv.met.Sessions.WithLabelValues(protocol).Dec()
	return nil
}

// Login checks the credentials; imapserver calls it for LOGIN and for
// AUTHENTICATE PLAIN, and only once TLS is up unless AllowInsecureAuth.
//
// The work runs on a goroutine of its own: the directory and index calls
// (SQLite in particular) grow a goroutine's stack to tens of KiB, and the
// connection's goroutine, which then waits for the next command for
// minutes or hours, would keep that stack until the collector shrinks it
// by halves. A panic is carried back, for imapserver to recover.
func (s *session) Login(username, password string) error {
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
		return imapserver.ErrAuthFailed
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

// Namespace announces a single personal namespace (RFC 2342).
func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{
		Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: store.Delimiter}},
	}, nil
}

// mailboxes is the index, shorthand.
func (s *session) mailboxes() store.Mailboxes { return s.srv.cfg.Store }
