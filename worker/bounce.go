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

	"github.com/bucketmail/bucketmail/internal/dsn"
	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
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

// bounce sends the sender of j one DSN naming the recipients of over.
func (w *Worker) bounce(ctx context.Context, j store.Job, over []overRcpt, header []byte) error {
	var rcpts []dsn.Recipient
	for _, o := range over {
		addr := o.r.user.Address
		if addr == "" {
			addr = o.r.rcpt
		}
		rcpts = append(rcpts, dsn.Recipient{
			Rcpt: addr, Status: "5.2.2",
			Diagnostic: "mailbox full: the recipient's mailbox is over its storage quota",
		})
	}
	return w.sendDSN(ctx, j, "over-quota-dsn", rcpts, header)
}

// sendDSN sends the sender of j one DSN ("failed") naming rcpts, each
// address once. The DSN's id is derived from j, kind and the recipients,
// and its bytes from j, so that a job processed again (a lost Ack, a
// second worker after a lease ran out) writes the same object and finds
// its job already known instead of sending a second notice.
func (w *Worker) sendDSN(ctx context.Context, j store.Job, kind string, rcpts []dsn.Recipient, header []byte) error {
	rcpts = uniqueRcpts(rcpts)
	addrs := make([]string, len(rcpts))
	for i, r := range rcpts {
		addrs[i] = r.Rcpt
	}
	id, at := derivedID(j, kind, addrs)
	log := w.log.With(slog.String("queue_id", j.ID), slog.String("dsn", id), slog.String("to", j.From),
		slog.String("recipients", strings.Join(addrs, ",")))

	queue, err := w.senderQueue(ctx, j.From)
	if err != nil {
		return err
	}
	if queue == "" {
		log.LogAttrs(ctx, slog.LevelWarn, "DSN not sent: the sender has no mailbox here",
			slog.String("kind", kind))
		w.countN(resultBounced, len(rcpts))
		return nil
	}
	known, err := dsn.Submit(ctx, w.intake(), queue, dsn.Params{
		ID: id, Hostname: w.cfg.Hostname, Action: dsn.ActionFailed, At: at,
		QueueID: j.ID, From: j.From, Arrival: j.ReceivedAt, Recipients: rcpts, Header: header,
	})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	w.countN(resultBounced, len(rcpts))
	log.LogAttrs(ctx, slog.LevelWarn, "recipients bounced", slog.String("kind", kind),
		slog.String("queue", queue), slog.Bool("already_sent", known))
	return nil
}

// senderQueue is the queue of a DSN to from: inbound for a local user or
// one of our SRS addresses (the MDA sends it back to the address the SRS
// address stands for), outbound for a foreign domain, "" for an address
// of ours that leads nowhere.
func (w *Worker) senderQueue(ctx context.Context, from string) (string, error) {
	res, err := store.Resolve(ctx, w.cfg.Store, from)
	switch {
	case err == nil && len(res.Users)+len(res.External) > 0:
		return store.QueueInbound, nil
	case errors.Is(err, store.ErrNotLocal):
		return store.QueueOutbound, nil
	case errors.Is(err, store.ErrNotFound) && srs.IsSRS(from) && w.cfg.SRS != nil:
		return store.QueueInbound, nil
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
		return "", nil
	default:
		return "", fmt.Errorf("resolving the sender %s: %w", from, err)
	}
}

// uniqueRcpts sorts rcpts by address and keeps the first of each.
func uniqueRcpts(rcpts []dsn.Recipient) []dsn.Recipient {
	slices.SortStableFunc(rcpts, func(a, b dsn.Recipient) int { return strings.Compare(a.Rcpt, b.Rcpt) })
	return slices.CompactFunc(rcpts, func(a, b dsn.Recipient) bool { return a.Rcpt == b.Rcpt })
}

// derivedID is the id of a message made from j (a DSN, a forwarded copy)
// for kind and parts, and its time: the ULID time of j (its arrival when
// j.ID is not a ULID), with entropy from a hash of kind, j.ID and parts.
// Processing j again gives the same id, so the queue knows the job.
func derivedID(j store.Job, kind string, parts []string) (string, time.Time) {
	at := j.ReceivedAt
	if u, err := ulid.ParseStrict(j.ID); err == nil {
		at = ulid.Time(u.Time())
	}
	at = at.UTC().Truncate(time.Millisecond)
	sum := sha256.Sum256([]byte(kind + "\x00" + j.ID + "\x00" + strings.Join(parts, "\x00")))
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
