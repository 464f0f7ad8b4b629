package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/store"
)

const msgPrefix = "msg/"

// scanObjects looks at every message object and puts back into the index
// those that the restored snapshots do not have: delivered objects through
// the queue, appended ones directly.
func (r *reindexer) scanObjects(ctx context.Context) error {
	after := ""
	for {
		page, err := r.blobs.List(ctx, msgPrefix, after, listPage)
		if err != nil {
			return fmt.Errorf("reindex: list objects after %q: %w", after, err)
		}
		for _, info := range page {
			r.rep.Objects++
			if err := r.object(ctx, info.Key); err != nil {
				r.errs.add(err)
			}
		}
		if len(page) < listPage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

func (r *reindexer) object(ctx context.Context, key string) error {
	info, err := r.blobs.Stat(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		r.rep.Skipped++ // deleted since the listing
		return nil
	}
	if err != nil {
		return fmt.Errorf("reindex: stat %s: %w", key, err)
	}
	if a, ok := store.AppendFromMeta(info.Meta); ok {
		return r.appended(ctx, info, a)
	}
	if !reconcile.HasJob(info.Meta) {
		r.rep.Skipped++
		return nil
	}
	j, err := store.JobFromMeta(key, info.Meta)
	if err != nil {
		r.rep.Skipped++
		r.log.LogAttrs(ctx, slog.LevelWarn, "object with bad job metadata skipped",
			slog.String("key", key), slog.String("error", err.Error()))
		return nil
	}
	return r.delivered(ctx, j)
}

// delivered enqueues j again unless every reindexed user it resolves to
// already has it. The other recipients' idempotency keys make the extra
// delivery a no-op for them.
func (r *reindexer) delivered(ctx context.Context, j store.Job) error {
	mine, missing := 0, 0
	seen := map[string]bool{}
	for _, rcpt := range j.To {
		res, err := store.Resolve(ctx, r.st, rcpt)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNotLocal) || errors.Is(err, store.ErrInvalid) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reindex: resolve %s of %s: %w", rcpt, j.ID, err)
		}
		for _, u := range res.Users {
			keys, ok := r.idem[u.ID]
			if !ok || seen[u.ID] {
				continue // not reindexed, or counted
			}
			seen[u.ID] = true
			mine++
			if !keys[j.ID+"/"+u.ID] {
				missing++
			}
		}
	}
	switch {
	case mine == 0:
		r.rep.Skipped++
		return nil
	case missing == 0:
		r.rep.InIndex++
		return nil
	}
	// The object is the record: its job goes back on the queue as is.
	if _, err := (intake.Intake{Blobs: r.blobs, Queue: r.st}).Enqueue(ctx, j); err != nil {
		return fmt.Errorf("reindex: enqueue %s: %w", j.ID, err)
	}
	r.rep.Enqueued++
	return nil
}

// appended puts an APPEND object back into its mailbox (INBOX if that is
// gone) unless the restored index has it.
func (r *reindexer) appended(ctx context.Context, info blob.Info, a store.Appended) error {
	keys, ok := r.idem[a.UserID]
	if !ok {
		r.rep.Skipped++ // not a reindexed user
		return nil
	}
	idemKey := strings.TrimPrefix(info.Key, msgPrefix) + "/" + a.UserID
	if keys[idemKey] {
		r.rep.InIndex++
		return nil
	}
	mb, err := r.st.Mailbox(ctx, a.UserID, a.Mailbox)
	if errors.Is(err, store.ErrNotFound) {
		mb, err = r.st.Mailbox(ctx, a.UserID, store.Inbox)
	}
	if err != nil {
		return fmt.Errorf("reindex: mailbox of %s: %w", info.Key, err)
	}
	sum, err := summarize(ctx, r.blobs, info.Key)
	if err != nil {
		return err
	}
	date := a.Date
	if date.IsZero() {
		date = time.Now()
	}
	_, dup, err := r.st.InsertMessage(ctx, a.UserID, mb.ID, idemKey, store.NewMessage{
		BlobKey: info.Key, Size: info.Size, InternalDate: date, Flags: a.Flags, Summary: sum.Marshal(),
	})
	if err != nil {
		return fmt.Errorf("reindex: put back %s: %w", info.Key, err)
	}
	keys[idemKey] = true
	if dup {
		r.rep.InIndex++
	} else {
		r.rep.Appended++
	}
	return nil
}

func summarize(ctx context.Context, blobs blob.Store, key string) (*message.Summary, error) {
	rc, err := blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("reindex: read %s: %w", key, err)
	}
	defer rc.Close()
	sum, err := message.Parse(rc)
	if err != nil {
		return nil, fmt.Errorf("reindex: parse %s: %w", key, err)
	}
	return sum, nil
}
