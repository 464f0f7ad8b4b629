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
		msgs, err := w.cfg.Store.MessageHeads(ctx, userID, mb.ID, 1, 0, 0)
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

// overQuota is the error of j for its over-quota recipients: temporary
// for mail received on port 25 (no Auth: the job is retried, the user may
// free space), permanent for submitted mail and notices made here. One
// line: when the job is dead-lettered (see settleOverQuota) the reason is
// shown by `bucketmail queue` ("worker: 1 recipient(s) over quota: ...").
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
