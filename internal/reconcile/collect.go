package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// maxGCPages bounds the pages of due keys one pass collects.
const maxGCPages = 10

// collect deletes the objects scheduled at least GCDelay ago that are still
// unreferenced. Only keys that lost their last reference are scheduled, so
// an object waiting for its first delivery (0 references, too) is never a
// candidate; a key whose job is queued again is postponed, one referenced
// again is taken off the schedule.
func (r *Reconciler) collect(ctx context.Context, now time.Time, res *Result) error {
	var errs errList
	for range maxGCPages {
		keys, err := r.cfg.Store.DueBlobDeletes(ctx, now.Add(-r.cfg.GCDelay), r.cfg.PageSize)
		if err != nil {
			errs.add(fmt.Errorf("reconcile: due deletes: %w", err))
			break
		}
		progress := false
		for _, key := range keys {
			settled, err := r.collectOne(ctx, key, now, res)
			if err != nil {
				errs.add(err)
			}
			progress = progress || settled
		}
		if len(keys) < r.cfg.PageSize || !progress {
			break
		}
		if err := r.renew(ctx); err != nil {
			errs.add(err)
			break
		}
	}
	return errs.err()
}

// collectOne handles one due key and reports whether it left the due list.
func (r *Reconciler) collectOne(ctx context.Context, key string, now time.Time, res *Result) (bool, error) {
	refs, err := r.cfg.Store.BlobRefs(ctx, key)
	if err != nil {
		return false, wrapErr("refs", key, err)
	}
	if refs > 0 {
		res.Kept++
		return true, wrapErr("forget delete", key, r.cfg.Store.ForgetBlobDelete(ctx, key))
	}
	queued, err := r.jobQueued(ctx, key)
	if err != nil {
		return false, wrapErr("job queued", key, err)
	}
	if queued {
		res.Postponed++
		return true, wrapErr("postpone delete", key, r.cfg.Store.ScheduleBlobDeletes(ctx, []string{key}, now))
	}
	if err := r.cfg.Blobs.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return false, wrapErr("delete", key, err)
	}
	res.Deleted++
	r.counter.inc("deleted")
	r.log.LogAttrs(ctx, slog.LevelDebug, "deleted unreferenced object", slog.String("key", key))
	return true, wrapErr("forget delete", key, r.cfg.Store.ForgetBlobDelete(ctx, key))
}

// jobQueued reports whether the message object key still has a job in a
// queue (store.Ledger.JobQueued).
func (r *Reconciler) jobQueued(ctx context.Context, key string) (bool, error) {
	id, isMsg := strings.CutPrefix(key, msgPrefix)
	if !isMsg {
		return false, nil
	}
	for _, name := range []string{store.QueueInbound, store.QueueOutbound} {
		queued, err := r.cfg.Store.JobQueued(ctx, name, id)
		if err != nil || queued {
			return queued, err
		}
	}
	return false, nil
}
