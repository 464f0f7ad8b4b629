package edge

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
)

// logProtocol is the protocol attribute of the authentication log lines.
const logProtocol = "smtp"

// Replies of the abuse limits (internal/abuse). They are temporary: the
// counters expire, and RFC 4954 section 6 gives 454 4.7.0 for an
// authentication the server cannot accept now.
var (
	errAuthBlocked = reply(c454TempAuthFailure, e470TempSecurity, "Too many failed authentications, try again later")
	errMessageRate = reply(c451LocalError, e470TempSecurity, "Hourly message limit reached, try again later")
	errRcptRate    = reply(c452TooManyRecipients, e470TempSecurity, "Hourly recipient limit reached, try again later")
)

// connRefusal is the greeting of a connection over the per-IP rate: 421
// closes the connection (RFC 5321 section 3.8).
func (s *Server) connRefusal() string {
	return fmt.Sprintf("421 4.7.0 %s Too many connections from your address, try again later\r\n", s.cfg.Hostname)
}

// capRefusal is the greeting of a connection over the listener's caps
// (abuse.ConnConfig): 421 as for the per-IP rate.
func (s *Server) capRefusal() string {
	return fmt.Sprintf("421 4.7.0 %s Too many connections, try again later\r\n", s.cfg.Hostname)
}

// beginAuth reserves an authentication of name (normalised) against the
// failure limits before the password is checked; ok is false, and the
// refusal logged, when the client's IP or the account is blocked.
func (s *session) beginAuth(name string) (a *abuse.Attempt, ok bool) {
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	a, ok = s.srv.cfg.Limits.BeginAuth(ctx, s.clientIP, name)
	if !ok {
		s.reject("auth_blocked")
		auth.LogAttempt(s.srv.cfg.Log, auth.MsgBlocked, logProtocol, s.clientIP, name)
	}
	return a, ok
}

// checkSendRate refuses a submitted message (addRcpts == 0, at MAIL) or a
// recipient (addRcpts: the transaction's recipients with the new one) over
// the hourly limits of the authenticated user.
// A refused recipient is counted by the caller (refuse).
func (s *session) checkSendRate(user string, addRcpts int) *smtp.SMTPError {
	if user == "" || s.srv.cfg.Limits == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	msgOK, rcptOK := s.srv.cfg.Limits.SendAllowed(ctx, user, int64(addRcpts))
	switch {
	case addRcpts == 0 && !msgOK:
		s.reject("message_rate")
		s.srv.cfg.Log.Warn("smtp message rate limit", slog.String("client_ip", s.clientIP), slog.String("user", user))
		return errMessageRate
	case addRcpts > 0 && !rcptOK:
		s.srv.cfg.Log.Warn("smtp recipient rate limit", slog.String("client_ip", s.clientIP), slog.String("user", user))
		return errRcptRate
	}
	return nil
}

// countSent counts a queued submitted message against the hourly limits.
func (s *session) countSent(tx *transaction) {
	if tx.auth == "" {
		return
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	s.srv.cfg.Limits.Sent(ctx, tx.auth, int64(len(tx.rcpts)))
}
