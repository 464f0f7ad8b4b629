package pop3

import (
	"context"
	"net"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
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

// beginLogin reserves a login of name (normalised) against the failure
// limits before the password is checked; when the client's IP or the
// account is blocked it logs and answers -ERR [AUTH] (RFC 3206 section 4)
// and returns ok false. The lines go to the server's logger: the
// session's carries protocol already.
func (s *session) beginLogin(ctx context.Context, name string) (a *abuse.Attempt, ok bool) {
	ip := abuse.ClientIP(s.conn.RemoteAddr())
	a, ok = s.srv.cfg.Limits.BeginAuth(ctx, ip, name)
	if !ok {
		auth.LogAttempt(s.srv.log, auth.MsgBlocked, protocol, ip, name)
		s.err(codeAuth, "Too many failed logins, try again later")
	}
	return a, ok
}

// loginFailed logs and counts a failed login, and waits the growing delay.
func (s *session) loginFailed(ctx context.Context, a *abuse.Attempt, name string) {
	s.srv.metrics.AuthFailures.WithLabelValues(protocol).Inc()
	auth.LogAttempt(s.srv.log, auth.MsgFailed, protocol, abuse.ClientIP(s.conn.RemoteAddr()), name)
	a.Failed(ctx)
}
