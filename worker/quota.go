package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/quota"
	"github.com/bucketmail/bucketmail/internal/store"
)

// resultOverQuota counts a copy not delivered because the recipient's
// mailbox is over its storage quota.
const resultOverQuota = "over_quota"

// checkQuota returns a quota.ErrOverQuota error when storing m would take
// r over its quota. A copy delivered by an earlier attempt of j (the
// attempt failed for another recipient) is not held against the quota a
// second time: it passes, and insert finds it by its idempotency key.
func (w *Worker) checkQuota(ctx context.Context, j store.Job, r recipient, mailbox string, m store.NewMessage) error {
	err := quota.Check(ctx, w.cfg.Store, r.user, w.cfg.DefaultQuota, m.Size)
	if err == nil || !errors.Is(err, quota.ErrOverQuota) {
		return err
	}
	if j.Attempts > 1 {
		had, herr := w.alreadyDelivered(ctx, r.user.ID, m.BlobKey, mailbox)
		if herr != nil {
			return herr
		}
		if had {
			return nil
		}
	}
	w.count(resultOverQuota)
	w.log.LogAttrs(ctx, slog.LevelWarn, "delivery over quota", slog.String("queue_id", j.ID),
		slog.String("recipient", r.rcpt), slog.String("user_id", r.user.ID), slog.String("error", err.Error()))
	return err
}

// alreadyDelivered reports whether userID's mailbox (or INBOX) holds a copy
// of the object key. It reads the whole mailbox index, so it is only asked
// on a retry of a job that finds the user over quota.
func (w *Worker) alreadyDelivered(ctx context.Context, userID, key, mailbox string) (bool, error) {
	names := []string{mailbox}
	if mailbox != store.Inbox {
		names = append(names, store.Inbox)
	}
	for _, name := range names {
		mb, err := w.cfg.Store.Mailbox(ctx, userID, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("worker: %s of %s: %w", name, userID, err)
		}
		msgs, err := w.cfg.Store.Messages(ctx, userID, mb.ID, 1, 0, 0)
		if err != nil {
			return false, fmt.Errorf("worker: messages of %s: %w", userID, err)
		}
		for _, m := range msgs {
			if m.BlobKey == key {
				return true, nil
			}
		}
	}
	return false, nil
}

// overQuota turns the over-quota recipients of j into the job's outcome,
// once every other recipient got its copy:
//   - mail received on port 25 (no Auth): a temporary failure, so the job
//     is retried with backoff (the user may free space) and, after
//     store.MaxAttempts attempts, dead-lettered with the reason, which
//     `bucketmail queue` shows ("gave up after 10 attempts: ... over quota");
//   - submitted mail (Auth set) and notices made here: a permanent failure,
//     dead-lettered at once with the reason. No DSN is sent yet: the
//     submitter was already told 452 4.2.2 at RCPT when the mailbox was full
//     then; a message that overflows it at delivery is only logged and
//     listed by `bucketmail queue`.
func overQuota(j store.Job, over []error) error {
	if len(over) == 0 {
		return nil
	}
	texts := make([]string, len(over))
	for i, e := range over {
		texts[i] = e.Error()
	}
	// One line: the reason is shown by `bucketmail queue`.
	err := fmt.Errorf("worker: %d recipient(s) over quota: %s: %w", len(over), strings.Join(texts, "; "), quota.ErrOverQuota)
	if j.Auth != "" {
		return fault.Permanent(err)
	}
	return err
}
