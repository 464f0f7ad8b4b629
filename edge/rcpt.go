package edge

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Rcpt accepts a recipient when it is deliverable here. The directory is
// asked now, not after DATA, so that a refusal is the client's problem and
// never becomes a bounce (RFC 5321 section 3.3).
func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	tx := s.current()
	if tx == nil {
		return errTempFailure // go-smtp checks MAIL first; a concurrent Close can get here
	}
	key := strings.ToLower(to)
	s.mu.Lock()
	n, dup := len(tx.rcpts), tx.seen[key]
	s.mu.Unlock()
	if dup {
		return nil // RFC 5321 section 3.3 lets a server accept duplicates silently
	}
	if n >= s.srv.cfg.MaxRecipients || !s.envelopeFits(tx, to) {
		// RFC 5321 section 4.5.3.1.10: 452, the client sends the rest later.
		return s.refuse(tx, "too_many_recipients", errTooManyRecipients)
	}
	if err := s.checkSendRate(tx.auth, n+1); err != nil {
		return s.refuse(tx, "recipient_rate", err)
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	if err := s.checkRecipient(ctx, tx, to); err != nil {
		return err
	}
	s.mu.Lock()
	tx.rcpts = append(tx.rcpts, to)
	tx.seen[key] = true
	s.mu.Unlock()
	return nil
}

// checkRecipient returns nil or the reply that refuses to.
func (s *session) checkRecipient(ctx context.Context, tx *transaction, to string) error {
	local, err := s.localDomain(ctx, domainOf(to))
	if err != nil {
		return s.storageFailure(tx, "rcpt", err)
	}
	if !local {
		return s.remoteRecipient(tx)
	}
	if handled, err := s.checkSRS(ctx, tx, to); handled {
		return err
	}
	res, err := s.resolve(ctx, to)
	switch {
	case err == nil && len(res.Users)+len(res.External) > 0:
		return s.checkQuota(ctx, tx, res)
	case err == nil, errors.Is(err, store.ErrNotFound):
		return s.unknownRecipient(tx)
	case errors.Is(err, store.ErrNotLocal):
		return s.remoteRecipient(tx) // the domain went away meanwhile
	case errors.Is(err, store.ErrInvalid):
		return s.refuse(tx, "bad_address", errBadRecipient)
	case fault.IsPermanent(err):
		s.srv.cfg.Log.Warn("smtp rcpt refused", slog.String("client_ip", s.clientIP), slog.String("error", err.Error()))
		return s.unknownRecipient(tx)
	default:
		return s.storageFailure(tx, "rcpt", err)
	}
}

// remoteRecipient decides on a recipient in a domain that is not ours. On
// port 25 that is relaying (RFC 5321 section 3.6.2): refused. On submission
// the user is authenticated (Mail refuses a transaction without AUTH), so
// the recipient is accepted and the message will go to the outbound queue
// (queueFor).
func (s *session) remoteRecipient(tx *transaction) error {
	if s.mode == MX || tx.auth == "" {
		return s.refuse(tx, "relay_denied", errRelayDenied)
	}
	s.mu.Lock()
	tx.remote = true
	s.mu.Unlock()
	return nil
}

func (s *session) localDomain(ctx context.Context, domain string) (bool, error) {
	if domain == "" {
		return false, nil
	}
	return s.srv.cfg.Dir.HasDomain(ctx, domain)
}

func (s *session) resolve(ctx context.Context, addr string) (store.Resolution, error) {
	defer s.srv.observe("store", "resolve")()
	return store.Resolve(ctx, s.srv.cfg.Dir, addr)
}

// refuse counts a refused recipient and returns the reply.
func (s *session) refuse(tx *transaction, reason string, reply *smtp.SMTPError) *smtp.SMTPError {
	if tx != nil {
		s.mu.Lock()
		tx.rejected++
		s.mu.Unlock()
	}
	s.reject(reason)
	return reply
}

// storageFailure logs err and answers 451: the client will try again.
func (s *session) storageFailure(tx *transaction, op string, err error) *smtp.SMTPError {
	s.srv.cfg.Log.Error("smtp storage failure", slog.String("op", op), slog.String("listener", s.mode.String()),
		slog.String("client_ip", s.clientIP), slog.String("error", err.Error()))
	return s.refuse(tx, "storage", errTempFailure)
}
