package edge

import (
	"context"
	"errors"
	"log/slog"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/store"
)

// submissionSession is a session that offers AUTH (RFC 4954). go-smtp
// advertises and accepts AUTH only over TLS unless AllowInsecureAuth is set.
type submissionSession struct {
	*session
}

var _ smtp.AuthSession = (*submissionSession)(nil)

// AuthMechanisms lists PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login), which TLS makes safe. go-smtp advertises
// them only after STARTTLS (or on 465) unless AllowInsecureAuth is set.
func (s *submissionSession) AuthMechanisms() []string { return []string{sasl.Plain, saslLogin} }

// Auth returns the SASL server for mech.
func (s *submissionSession) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(s.login), nil
	case saslLogin:
		return newLoginServer(func(username, password string) error {
			return s.login("", username, password)
		}), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// login checks a PLAIN or LOGIN exchange. The name is normalised once,
// for the limits and the directory alike. Proxy authorization (an
// identity other than the username) is not supported.
func (s *submissionSession) login(identity, username, password string) error {
	name := auth.NormalizeName(username)
	att, ok := s.beginAuth(name)
	if !ok {
		return errAuthBlocked
	}
	if identity != "" && auth.NormalizeName(identity) != name {
		return s.authFailed(att, name)
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	user, err := s.srv.cfg.Auth.Login(ctx, name, password)
	switch {
	case errors.Is(err, auth.ErrFailed):
		return s.authFailed(att, name)
	case err != nil:
		att.Abandon(s.srv.ctx)
		s.srv.cfg.Log.Error("smtp auth storage failure", slog.String("client_ip", s.clientIP), slog.String("error", err.Error()))
		return errAuthTemp
	}
	att.Succeeded(s.srv.ctx)
	s.mu.Lock()
	s.user = &user
	s.mu.Unlock()
	s.srv.cfg.Log.Info("smtp auth", slog.String("client_ip", s.clientIP), slog.String("user", user.Address))
	return nil
}

// authFailed logs and counts a failed authentication, and waits the
// growing delay of the limits.
func (s *submissionSession) authFailed(att *abuse.Attempt, name string) error {
	s.srv.cfg.Metrics.AuthFailures.WithLabelValues(s.mode.String()).Inc()
	auth.LogAttempt(s.srv.cfg.Log, auth.MsgFailed, logProtocol, s.clientIP, name)
	att.Failed(s.srv.ctx)
	return errAuthFailed
}

// checkSender accepts a sender the user owns: their address, a
// plus-address of it, or an alias that resolves to them (RFC 6409
// section 8.1 lets a submission server enforce this).
func (s *session) checkSender(user *store.User, from string) error {
	if from == "" {
		// Bounces are the worker's job; users do not send them.
		s.reject("sender_not_owned")
		return errSenderNotOwned
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	owned, err := s.owns(ctx, user, from)
	switch {
	case err != nil:
		return s.storageFailure(nil, "mail", err)
	case !owned:
		s.reject("sender_not_owned")
		return errSenderNotOwned
	}
	return nil
}

// owns reports whether addr resolves to user (store.Resolve: the address
// itself, plus-addressing, aliases). An unknown or foreign address is not
// owned; only a temporary storage failure is an error.
func (s *session) owns(ctx context.Context, user *store.User, addr string) (bool, error) {
	res, err := s.resolve(ctx, addr)
	if err != nil && !fault.IsPermanent(err) {
		return false, err
	}
	for _, u := range res.Users {
		if u.ID == user.ID {
			return true, nil
		}
	}
	return false, nil
}
