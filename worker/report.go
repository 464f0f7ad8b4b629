package worker

import (
	"context"
	"log/slog"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/dsn"
	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
)

// report tells the sender of j about the recipients that got nothing, with
// one DSN. No DSN goes to the null sender (RFC 5321 section 6.1) nor, for
// mail from the internet, to a sender that neither SPF nor DKIM vouched
// for: the address may be forged, and a notice to it would be backscatter.
// Those recipients are refused instead: logged with the reason and
// counted (result "refused") — the one way invariant 8 lets a recipient
// end without a mailbox, a copy or a DSN.
func (w *Worker) report(ctx context.Context, j store.Job, failed []dsn.Recipient, header []byte, auth *authcheck.Result) error {
	if len(failed) == 0 {
		return nil
	}
	if j.From != "" && w.senderVerified(ctx, j, auth) {
		return w.sendDSN(ctx, j, "undeliverable-dsn", failed, header)
	}
	why := "null sender"
	if j.From != "" {
		why = "sender not verified by SPF or DKIM"
	}
	for _, f := range failed {
		w.count(resultRefused)
		w.log.LogAttrs(ctx, slog.LevelWarn, "recipient refused without a DSN",
			slog.String("queue_id", j.ID), slog.String("from", j.From), slog.String("recipient", f.Rcpt),
			slog.String("status", f.Status), slog.String("reason", f.Diagnostic),
			slog.String("no_dsn", why), slog.String("result", resultRefused))
	}
	return nil
}

// senderVerified reports whether a DSN may go to the sender of j:
// submitted mail and notices made here, mail not checked (no checker
// configured), an SRS address of ours whose hash verifies (we made it),
// and mail whose MAIL FROM domain passed SPF or signed with DKIM.
func (w *Worker) senderVerified(ctx context.Context, j store.Job, auth *authcheck.Result) bool {
	if j.Auth != "" || auth == nil {
		return true
	}
	if srs.IsSRS(j.From) && w.cfg.SRS != nil {
		if _, err := w.cfg.SRS.Reverse(ctx, j.From); err == nil {
			return true
		}
	}
	if auth.SPF == authres.ResultPass && strings.EqualFold(auth.SPFDomain, domainOf(j.From)) {
		return true
	}
	for _, d := range auth.DKIM {
		if d.Value == authres.ResultPass && strings.EqualFold(d.Domain, domainOf(j.From)) {
			return true
		}
	}
	return false
}
