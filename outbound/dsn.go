package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/dsn"
	"github.com/bucketmail/bucketmail/internal/store"
)

// DSN actions (RFC 3464 section 2.3.3).
const (
	actionFailed  = dsn.ActionFailed
	actionDelayed = dsn.ActionDelayed
)

// dsnRecord is a notice decided on but maybe not sent yet. Its id is
// fixed before it is sent, so sending it again replaces the same object
// and finds its job already there.
type dsnRecord struct {
	ID     string    `json:"id"`
	Action string    `json:"action"`
	Rcpts  []Result  `json:"rcpts"`
	At     time.Time `json:"at"`
}

// queueNotices decides which notices this attempt owes the sender: a
// "failed" DSN for recipients that failed for good since the last one,
// and once a "delayed" DSN when the message has waited DelayNotice. They
// are recorded in st, and sent by sendNotices after st is saved.
func (s *Sender) queueNotices(ctx context.Context, log *slog.Logger, j store.Job, st *state, pending []string, now time.Time) error {
	var failed []Result
	for r, rs := range st.Rcpts {
		if rs.Status == Permanent && !rs.Reported {
			failed = append(failed, rs.Result)
			rs.Reported = true
			st.Rcpts[r] = rs
		}
	}
	var delayed []Result
	if len(pending) > 0 && !st.DelayNotified && s.cfg.DelayNotice > 0 && now.Sub(j.ReceivedAt) >= s.cfg.DelayNotice {
		st.DelayNotified = true
		for _, r := range pending {
			d := st.Deferred[r]
			d.Rcpt, d.Status = r, Temporary
			delayed = append(delayed, d)
		}
	}
	if len(failed) == 0 && len(delayed) == 0 {
		return nil
	}
	// Never notify the null sender (RFC 5321 section 6.1: no bounce of a
	// bounce), and only a local sender has an INBOX to notify.
	if j.From == "" {
		return nil
	}
	local, err := s.cfg.Store.HasDomain(ctx, domainOf(j.From))
	if err != nil {
		return fmt.Errorf("looking up the sender's domain: %w", err)
	}
	if !local {
		log.Warn("no notice for a sender outside our domains", slog.String("from", j.From))
		return nil
	}
	sortResults(failed)
	sortResults(delayed)
	if len(failed) > 0 {
		st.DSNs = append(st.DSNs, dsnRecord{ID: ulid.Make().String(), Action: actionFailed, Rcpts: failed, At: now})
	}
	if len(delayed) > 0 {
		st.DSNs = append(st.DSNs, dsnRecord{ID: ulid.Make().String(), Action: actionDelayed, Rcpts: delayed, At: now})
	}
	return nil
}

// sendNotices sends each recorded notice (dsn.Submit) for local delivery
// to the sender, with the null sender as its envelope sender (RFC 3464
// section 2; RFC 5321 section 4.5.5).
func (s *Sender) sendNotices(ctx context.Context, log *slog.Logger, j store.Job, st *state) error {
	if len(st.DSNs) == 0 {
		return nil
	}
	header, err := dsn.OriginalHeader(ctx, s.cfg.Blobs, j.BlobKey)
	if err != nil {
		return err
	}
	for _, rec := range st.DSNs {
		if _, err := dsn.Submit(ctx, s.intake(), store.QueueInbound, s.noticeParams(j, rec, header)); err != nil {
			return fmt.Errorf("outbound: %w", err)
		}
		log.Info("delivery status notification", slog.String("action", rec.Action),
			slog.String("dsn", rec.ID), slog.Int("recipients", len(rec.Rcpts)))
	}
	st.DSNs = nil
	return s.saveState(ctx, j, st)
}

// noticeParams is the notice rec about j (RFC 3464).
func (s *Sender) noticeParams(j store.Job, rec dsnRecord, header []byte) dsn.Params {
	p := dsn.Params{
		ID: rec.ID, Hostname: s.cfg.Hostname, Action: rec.Action, At: rec.At,
		QueueID: j.ID, From: j.From, Arrival: j.ReceivedAt, Header: header,
	}
	if rec.Action == actionDelayed {
		p.RetryUntil = j.ReceivedAt.Add(s.cfg.Lifetime)
	}
	for _, r := range rec.Rcpts {
		dr := dsn.Recipient{Rcpt: r.Rcpt, Status: statusCode(r, rec.Action), RemoteMTA: r.MTA, Diagnostic: r.Text}
		if r.Code != 0 {
			dr.DiagnosticType = "smtp"
		}
		p.Recipients = append(p.Recipients, dr)
	}
	return p
}

// statusCode is the RFC 3463 code of r for the Status field: a failure
// reports a 5.x.x or, for an expiry, 4.4.7 as RFC 3464 examples do; a
// delay a 4.x.x.
func statusCode(r Result, action string) string {
	code := r.Enhanced
	if code == "" {
		code = codeOtherTemp
		if action == actionFailed {
			code = codeOtherPerm
		}
	}
	return code
}

func sortResults(rs []Result) {
	slices.SortFunc(rs, func(a, b Result) int { return strings.Compare(a.Rcpt, b.Rcpt) })
}
