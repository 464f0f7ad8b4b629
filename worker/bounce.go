package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/outbound/dsn"
)

// resultBounced counts a copy given up on (over quota) and reported to the
// sender with a DSN.
const resultBounced = "bounced"

// overRcpt is a recipient found over quota, with the reason.
type overRcpt struct {
	r   recipient
	err error
}

// settleOverQuota decides the outcome of j once every other recipient got
// its copy, when some were over quota:
//   - mail received on port 25 (no Auth) is retried with backoff (the user
//     may free space); on the last attempt (store.MaxAttempts) the
//     over-quota recipients are bounced;
//   - submitted mail and notices made here are bounced at once.
//
// Bouncing sends the envelope sender one DSN ("failed", 5.2.2) naming them;
// the job is then done (nil: Ack). A null sender is never bounced to (RFC
// 5321 section 6.1): its job fails as before (dead-lettered with the reason,
// which `bucketmail queue` shows).
func (w *Worker) settleOverQuota(ctx context.Context, j store.Job, over []overRcpt, header []byte) error {
	if len(over) == 0 {
		return nil
	}
	errs := make([]error, len(over))
	for i, o := range over {
		errs[i] = o.err
	}
	err := overQuota(j, errs)
	if j.From == "" || (j.Auth == "" && j.Attempts < store.MaxAttempts) {
		return err
	}
	if berr := w.bounce(ctx, j, over, header); berr != nil {
		// Temporary: the job is retried, delivery and the DSN are
		// idempotent.
		return fmt.Errorf("worker: bouncing over-quota recipients: %w (%v)", berr, err)
	}
	return nil
}

// bounce sends the sender of j one DSN naming the recipients of over. The
// DSN's id is derived from j and the recipients, and its bytes from j, so
// that a job processed again (a lost Ack, a second worker after a lease
// ran out) writes the same object and finds its job already known instead
// of sending a second notice.
func (w *Worker) bounce(ctx context.Context, j store.Job, over []overRcpt, header []byte) error {
	var rcpts []dsn.Recipient
	seen := map[string]bool{}
	for _, o := range over {
		addr := o.r.user.Address
		if addr == "" {
			addr = o.r.rcpt
		}
		if seen[addr] {
			continue
		}
		seen[addr] = true
		rcpts = append(rcpts, dsn.Recipient{
			Rcpt: addr, Status: "5.2.2",
			Diagnostic: "mailbox full: the recipient's mailbox is over its storage quota",
		})
	}
	slices.SortFunc(rcpts, func(a, b dsn.Recipient) int { return strings.Compare(a.Rcpt, b.Rcpt) })
	addrs := make([]string, len(rcpts))
	for i, r := range rcpts {
		addrs[i] = r.Rcpt
	}
	id, at := dsnID(j, addrs)
	log := w.log.With(slog.String("queue_id", j.ID), slog.String("dsn", id), slog.String("to", j.From),
		slog.String("recipients", strings.Join(addrs, ",")))

	dj := store.Job{ID: id, BlobKey: blob.MessageKey(id), From: "", To: []string{j.From},
		ReceivedAt: at, Auth: "MAILER-DAEMON@" + w.cfg.Hostname}
	res, err := store.Resolve(ctx, w.cfg.Store, j.From)
	switch {
	case err == nil && len(res.Users) > 0:
		dj.Queue = store.QueueInbound
	case errors.Is(err, store.ErrNotLocal):
		dj.Queue = store.QueueOutbound
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		log.LogAttrs(ctx, slog.LevelWarn, "over-quota bounce not sent: the sender has no mailbox here")
		w.countN(resultBounced, len(rcpts))
		return nil
	default:
		return fmt.Errorf("resolving the sender %s: %w", j.From, err)
	}

	known, err := w.cfg.Store.JobKnown(ctx, dj.Queue, dj.ID)
	if err != nil {
		return fmt.Errorf("looking up DSN %s: %w", id, err)
	}
	if !known {
		var buf bytes.Buffer
		if err := dsn.Write(&buf, dsn.Params{
			ID: id, Hostname: w.cfg.Hostname, Action: dsn.ActionFailed, At: at,
			QueueID: j.ID, From: j.From, Arrival: j.ReceivedAt, Recipients: rcpts, Header: header,
		}); err != nil {
			return fmt.Errorf("writing DSN %s: %w", id, err)
		}
		if _, err := w.cfg.Blobs.Put(ctx, dj.BlobKey, &buf, store.JobMeta(dj)); err != nil {
			return fmt.Errorf("writing DSN %s: %w", id, err)
		}
		err = w.cfg.Store.Enqueue(ctx, dj)
		if err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("enqueueing DSN %s: %w", id, err)
		}
		known = errors.Is(err, store.ErrExists)
	}
	w.countN(resultBounced, len(rcpts))
	log.LogAttrs(ctx, slog.LevelWarn, "over-quota recipients bounced",
		slog.String("queue", dj.Queue), slog.Bool("already_sent", known))
	return nil
}

// dsnID is the id of the over-quota DSN of j for rcpts (sorted), and its
// time: the ULID time of j (its arrival when j.ID is not a ULID), with
// entropy from a hash of j.ID and rcpts.
func dsnID(j store.Job, rcpts []string) (string, time.Time) {
	at := j.ReceivedAt
	if u, err := ulid.ParseStrict(j.ID); err == nil {
		at = ulid.Time(u.Time())
	}
	at = at.UTC().Truncate(time.Millisecond)
	sum := sha256.Sum256([]byte("over-quota-dsn\x00" + j.ID + "\x00" + strings.Join(rcpts, "\x00")))
	id, err := ulid.New(ulid.Timestamp(at), bytes.NewReader(sum[:]))
	if err != nil {
		// A time out of the ULID range: fall back to the arrival-less zero.
		id = ulid.MustNew(0, bytes.NewReader(sum[:]))
	}
	return id.String(), at
}

func (w *Worker) countN(result string, n int) {
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.Deliveries.WithLabelValues(result).Add(float64(n))
	}
}
