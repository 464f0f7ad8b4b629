package imapgw

import (
	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
)

// connRefusal greets a connection over the per-IP rate: a BYE greeting
// closes it (RFC 9051 section 7.1.5).
const connRefusal = "* BYE [UNAVAILABLE] Too many connections from your address, try again later\r\n"

// capRefusal greets a connection over the listener's caps
// (abuse.ConnConfig).
const capRefusal = "* BYE [UNAVAILABLE] Too many connections, try again later\r\n"

// errAuthBlocked answers a login from an IP or for an account with too many
// recent failures: UNAVAILABLE is temporary (RFC 5530 section 3).
var errAuthBlocked = &imap.Error{Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodeUnavailable, Text: "Too many failed logins, try again later"}

func (s *session) clientIP() string { return abuse.ClientIP(s.nc.RemoteAddr()) }

// beginLogin reserves a login of name (normalised) against the failure
// limits before the password is checked; ok is false, and the refusal
// logged, when the client's IP or the account is blocked. The lines go to
// the server's logger: the session's carries protocol already.
func (s *session) beginLogin(name string) (a *abuse.Attempt, ok bool) {
	a, ok = s.srv.cfg.Limits.BeginAuth(s.ctx, s.clientIP(), name)
	if !ok {
		auth.LogAttempt(s.srv.log, auth.MsgBlocked, protocol, s.clientIP(), name)
	}
	return a, ok
}

// loginFailed logs and counts a failed login, and waits the growing delay.
func (s *session) loginFailed(a *abuse.Attempt, name string) {
	s.srv.met.AuthFailures.WithLabelValues(protocol).Inc()
	auth.LogAttempt(s.srv.log, auth.MsgFailed, protocol, s.clientIP(), name)
	a.Failed(s.ctx)
}
