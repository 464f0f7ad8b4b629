package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/store"
)

// msgPrefix is the prefix of message objects (see blob.MessageKey).
const msgPrefix = "msg/"

var errLeaseLost = errors.New("reconcile: lease lost to another holder")

// maxErrs bounds the errors one pass reports; the rest are counted.
const maxErrs = 10

// scan lists the message objects after the checkpoint and enqueues the
// jobs the queue lost. An object is looked at once it is older than Grace
// (by its ULID and by its write time). The checkpoint only passes objects
// older than 2×Grace, and never an object not yet settled (written late,
// or failed): keys are ULIDs, sorted by creation time, but an object
// becomes visible when its upload ends, so the last Grace of keys is
// looked at again on the next pass rather than skipped.
func (r *Reconciler) scan(ctx context.Context, now time.Time, res *Result) error {
	saved, err := r.cfg.Store.Checkpoint(ctx, CheckpointName)
	if err != nil {
		return fmt.Errorf("reconcile: checkpoint: %w", err)
	}
	start := max(saved, floorKey(now.Add(-r.cfg.LookBack)))
	ripe, settled := now.Add(-r.cfg.Grace), now.Add(-2*r.cfg.Grace)
	checkpoint, advance := saved, true
	var errs errList
	for done := false; !done; {
		page, err := r.cfg.Blobs.List(ctx, msgPrefix, start, r.cfg.PageSize)
		if err != nil {
			errs.add(fmt.Errorf("reconcile: list after %q: %w", start, err))
			break
		}
		for _, info := range page {
			created := objectTime(info)
			if created.After(ripe) {
				done = true // keys sort by creation: the rest is younger
				break
			}
			start = info.Key
			res.Scanned++
			if err := r.examine(ctx, info, ripe, res); err != nil {
				errs.add(err)
				advance = false
			} else if info.Modified.After(ripe) {
				advance = false // visible only lately: look again
			}
			if advance && !created.After(settled) {
				checkpoint = info.Key
			}
		}
		if len(page) < r.cfg.PageSize {
			done = true
		}
		if !done {
			if err := r.renew(ctx); err != nil {
				errs.add(err)
				break
			}
		}
	}
	if checkpoint > saved {
		if err := r.cfg.Store.SetCheckpoint(ctx, CheckpointName, checkpoint); err != nil {
			errs.add(fmt.Errorf("reconcile: save checkpoint: %w", err))
		} else {
			saved = checkpoint
		}
	}
	res.Checkpoint = saved
	return errs.err()
}

// examine enqueues the job of one object unless the queue knows it. It
// returns an error when the object must be looked at again.
func (r *Reconciler) examine(ctx context.Context, info blob.Info, ripe time.Time, res *Result) error {
	if info.Modified.After(ripe) {
		return nil // too fresh by its write time; the caller looks again next pass
	}
	id := strings.TrimPrefix(info.Key, msgPrefix)
	if known, err := r.cfg.Store.JobKnown(ctx, store.QueueInbound, id); err != nil || known {
		if known {
			res.Known++
		}
		return wrapErr("job known", info.Key, err)
	}
	st, err := r.cfg.Blobs.Stat(ctx, info.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil // deleted since the listing
	}
	if err != nil {
		return wrapErr("stat", info.Key, err)
	}
	if !hasJob(st.Meta) {
		res.NoJob++
		return nil
	}
	j, err := store.JobFromMeta(info.Key, st.Meta)
	if err != nil {
		res.NoJob++
		r.log.LogAttrs(ctx, slog.LevelWarn, "object with bad job metadata skipped",
			slog.String("key", info.Key), slog.String("error", err.Error()))
		return nil
	}
	if j.Queue != store.QueueInbound {
		known, err := r.cfg.Store.JobKnown(ctx, j.Queue, j.ID)
		if err != nil || known {
			if known {
				res.Known++
			}
			return wrapErr("job known", info.Key, err)
		}
	}
	// The object is the record: its job goes back on the queue as is.
	dup, err := intake.Intake{Blobs: r.cfg.Blobs, Queue: r.cfg.Store}.Enqueue(ctx, j)
	if err != nil {
		return wrapErr("enqueue", info.Key, err)
	}
	if dup {
		res.Known++ // enqueued since JobKnown, by the edge or another reconciler
		return nil
	}
	res.Enqueued++
	r.counter.inc("enqueued")
	r.log.LogAttrs(ctx, slog.LevelWarn, "re-enqueued a message whose job was lost",
		slog.String("queue_id", j.ID), slog.String("queue", j.Queue), slog.Time("received", j.ReceivedAt))
	return nil
}

// hasJob reports whether object metadata carries a delivery job (see
// store.JobMeta); objects of IMAP APPEND carry origin=append instead.
func hasJob(meta map[string]string) bool {
	return meta[store.MetaOrigin] != store.OriginAppend && meta[store.MetaQueueID] != "" && meta[store.MetaTo] != ""
}

// HasJob is hasJob for other packages (reindex).
func HasJob(meta map[string]string) bool { return hasJob(meta) }

// objectTime is when an object was created: the time of its ULID, else
// its write time.
func objectTime(info blob.Info) time.Time {
	if id, err := ulid.ParseStrict(strings.TrimPrefix(info.Key, msgPrefix)); err == nil {
		return ulid.Time(id.Time())
	}
	return info.Modified
}

// floorKey is a key that sorts before every message object created at or
// after t.
func floorKey(t time.Time) string {
	if t.Before(time.UnixMilli(0)) {
		return ""
	}
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(t)); err != nil {
		return ""
	}
	return msgPrefix + id.String()[:10] // the 10 time characters; "…/T" < "…/T<entropy>"
}

func wrapErr(op, key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("reconcile: %s %s: %w", op, key, err)
}

// errList collects up to maxErrs errors and counts the rest.
type errList struct {
	errs    []error
	dropped int
}

func (l *errList) add(err error) {
	if len(l.errs) < maxErrs {
		l.errs = append(l.errs, err)
	} else {
		l.dropped++
	}
}

func (l *errList) err() error {
	if l.dropped > 0 {
		l.errs = append(l.errs, fmt.Errorf("reconcile: and %d more errors", l.dropped))
	}
	return errors.Join(l.errs...)
}

func joinErrs(errs ...error) error { return errors.Join(errs...) }
