package pop3

import (
	"context"
	"log/slog"
	"net"

	"github.com/bucketmail/bucketmail/internal/abuse"
)

// Refusals at greeting. Besides [SYS/TEMP] (RFC 3206 section 4), the text
// says "Service unavailable": clients that do not read response codes
// (fetchmail) take any other -ERR before login for a wrong password.
const (
	// capRefusal answers a connection over the listener's caps
	// (abuse.ConnConfig).
	capRefusal = "-ERR " + codeSysTemp + " Service unavailable: too many connections, try again later\r\n"
	// rateRefusal answers a connection over the per-IP rate.
	rateRefusal = "-ERR " + codeSysTemp + " Service unavailable: too many connections from your address, try again later\r\n"
)

// connAllowed counts a new connection (after the TLS handshake of an
// implicit-TLS port, so that the refusal is readable) and refuses one over
// the per-IP rate with -ERR [SYS/TEMP] (RFC 3206 section 4) instead of the
// greeting; RFC 1939 section 4 lets the server close after it.
func (s *Server) connAllowed(c net.Conn) bool {
	ip := abuse.ClientIP(c.RemoteAddr())
	if s.cfg.Limits.Connect(s.ctx, ip) {
		return true
	}
	_, _ = c.Write([]byte(rateRefusal))
	return false
}

// loginBlocked answers a login from an IP or for an account with too many
// recent failures with -ERR [AUTH], without checking the password.
func (s *session) loginBlocked(ctx context.Context, name string) bool {
	ip := abuse.ClientIP(s.conn.RemoteAddr())
	if !s.srv.cfg.Limits.AuthBlocked(ctx, ip, name) {
		return false
	}
	s.log.Warn("pop3 authentication blocked", slog.String("user", name))
	s.err(codeAuth, "Too many failed logins, try again later")
	return true
}

// loginFailed counts a failed login and waits the growing delay.
func (s *session) loginFailed(ctx context.Context, name string) {
	s.srv.cfg.Limits.AuthFailed(ctx, abuse.ClientIP(s.conn.RemoteAddr()), name)
}
