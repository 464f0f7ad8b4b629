package imapgw

import (
	"log/slog"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/abuse"
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

func (s *session) clientIP() string { return abuse.ClientIP(s.conn.NetConn().RemoteAddr()) }

// loginBlocked reports (and logs) a login refused by the abuse limits;
// the password is then not checked at all.
func (s *session) loginBlocked(username string) bool {
	if !s.srv.cfg.Limits.AuthBlocked(s.ctx, s.clientIP(), username) {
		return false
	}
	s.log.Warn("imap login blocked", slog.String("username", username))
	return true
}

// loginFailed counts a failed login and waits the growing delay.
func (s *session) loginFailed(username string) {
	s.srv.cfg.Limits.AuthFailed(s.ctx, s.clientIP(), username)
}
