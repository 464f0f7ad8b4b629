package edge

import (
	"context"
	"errors"
	"log/slog"

	"github.com/bucketmail/bucketmail/internal/quota"
	"github.com/bucketmail/bucketmail/internal/store"
)

// checkQuota refuses a recipient with 452 4.2.2 (RFC 3463 section 3.3,
// mailbox full: a temporary condition, the sender retries) when every local
// user it resolves to is over quota: usage >= quota, or usage + SIZE > quota
// when MAIL gave SIZE= (RFC 1870). An alias that also reaches another user
// or an external address is accepted; the worker then applies the quota per
// user at delivery. Without Config.Mailboxes there is no check.
func (s *session) checkQuota(ctx context.Context, tx *transaction, res store.Resolution) error {
	mbs := s.srv.cfg.Mailboxes
	if mbs == nil || len(res.Users) == 0 || len(res.External) > 0 {
		return nil
	}
	s.mu.Lock()
	size := tx.size
	s.mu.Unlock()
	for _, u := range res.Users {
		err := quota.Check(ctx, mbs, u, s.srv.cfg.DefaultQuota, size)
		if err == nil {
			return nil
		}
		if !errors.Is(err, quota.ErrOverQuota) {
			return s.storageFailure(tx, "quota", err)
		}
		s.srv.cfg.Log.Info("smtp rcpt over quota", slog.String("client_ip", s.clientIP),
			slog.String("user", u.Address), slog.String("error", err.Error()))
	}
	return s.refuse(tx, "over_quota", errMailboxFull)
}
