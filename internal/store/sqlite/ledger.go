package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// pruneEvery is how many Acks pass between two prunes of done_jobs: pruning
// on every Ack would cost a range delete per delivery for nothing.
const pruneEvery = 256

// pruneInterval is how often a Claim prunes done_jobs at most.
const pruneInterval = time.Minute

// recordDone remembers j (and its state) as done at now and, if prune,
// forgets the done records older than the retention.
func (db *DB) recordDone(ctx context.Context, tx *sql.Tx, j store.Job, now time.Time, prune bool) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO done_jobs(queue, id, done, data) VALUES (?, ?, ?, ?)
		ON CONFLICT(queue, id) DO UPDATE SET done = excluded.done, data = excluded.data`,
		j.Queue, j.ID, now.UnixNano(), j.State); err != nil {
		return err
	}
	if !prune {
		return nil
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM done_jobs WHERE done < ?", now.Add(-db.retention()).UnixNano())
	return err
}

// pruneDone forgets the done records older than the retention, at most
// once per pruneInterval: Acks prune too, but only every pruneEvery-th,
// and a queue that went quiet must still end with nothing left.
func (db *DB) pruneDone(ctx context.Context) error {
	now := time.Now()
	last := db.pruned.Load()
	if now.UnixNano()-last < min(db.retention(), pruneInterval).Nanoseconds() || !db.pruned.CompareAndSwap(last, now.UnixNano()) {
		return nil
	}
	return db.write(ctx, "prune done jobs", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM done_jobs WHERE done < ?", now.Add(-db.retention()).UnixNano())
		return err
	})
}

// SetDoneRetention changes how long acked jobs are remembered (default
// store.DoneRetention); tests shorten it.
func (db *DB) SetDoneRetention(d time.Duration) { db.doneRetention.Store(int64(d)) }

func (db *DB) retention() time.Duration {
	if d := time.Duration(db.doneRetention.Load()); d > 0 {
		return d
	}
	return store.DoneRetention
}

// JobKnown reports whether id is in queue (pending, in flight, delayed or
// dead) or was acked within the done retention.
func (db *DB) JobKnown(ctx context.Context, queue, id string) (bool, error) {
	var known bool
	since := time.Now().Add(-db.retention()).UnixNano()
	err := db.r.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM jobs WHERE queue = ? AND id = ?) OR
		EXISTS (SELECT 1 FROM done_jobs WHERE queue = ? AND id = ? AND done >= ?)`,
		queue, id, queue, id, since).Scan(&known)
	return known, wrap("job known", err)
}

// JobQueued reports whether id is still in queue: pending, in flight,
// delayed or dead, but not acked. The object collector keeps the objects of
// such jobs, whose delivery may not be finished.
func (db *DB) JobQueued(ctx context.Context, queue, id string) (bool, error) {
	var queued bool
	err := db.r.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM jobs WHERE queue = ? AND id = ?)",
		queue, id).Scan(&queued)
	return queued, wrap("job queued", err)
}

// TryLease takes the lease name for holder until ttl from now, or renews it
// if holder has it. It returns false while another holder's lease runs.
func (db *DB) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if err := store.CheckLease(name, holder, ttl); err != nil {
		return false, wrap("try lease", err)
	}
	var got bool
	err := db.write(ctx, "try lease", func(tx *sql.Tx) error {
		now := time.Now()
		res, err := tx.ExecContext(ctx, `INSERT INTO leases(name, holder, until) VALUES (?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until
			WHERE leases.holder = excluded.holder OR leases.until <= ?`,
			name, holder, now.Add(ttl).UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		got = n > 0
		return err
	})
	return got, err
}

// Checkpoint returns the value saved under name, or "".
func (db *DB) Checkpoint(ctx context.Context, name string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, "SELECT value FROM checkpoints WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, wrap("checkpoint", err)
}

// SetCheckpoint saves value under name.
func (db *DB) SetCheckpoint(ctx context.Context, name, value string) error {
	return db.write(ctx, "set checkpoint", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO checkpoints(name, value) VALUES (?, ?)
			ON CONFLICT(name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	})
}

// DeleteCheckpoint removes name.
func (db *DB) DeleteCheckpoint(ctx context.Context, name string) error {
	return db.write(ctx, "delete checkpoint", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM checkpoints WHERE name = ?", name)
		return err
	})
}

// CheckpointNames lists the names that start with prefix.
func (db *DB) CheckpointNames(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	err := db.read(ctx, "checkpoint names", func(tx *sql.Tx) error {
		var err error
		out, err = queryStrings(ctx, tx, "SELECT name FROM checkpoints WHERE substr(name, 1, ?) = ? ORDER BY name",
			len(prefix), prefix)
		return err
	})
	return out, err
}

// ScheduleBlobDeletes records keys for deletion at or after at; a key
// scheduled twice keeps the later time.
func (db *DB) ScheduleBlobDeletes(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	return db.write(ctx, "schedule blob deletes", func(tx *sql.Tx) error {
		return (&txn{Tx: tx, ctx: ctx}).schedule(keys, at)
	})
}

// ReleaseBlob schedules the deletion of key now if no index entry
// references it, in one transaction with reading its count.
func (db *DB) ReleaseBlob(ctx context.Context, key string) error {
	return db.write(ctx, "release blob", func(tx *sql.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(refs), 0) FROM blobs WHERE key = ?", key).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return (&txn{Tx: tx, ctx: ctx}).schedule([]string{key}, time.Now())
	})
}

// DueBlobDeletes returns up to limit keys (all when limit <= 0) scheduled
// at or before now, earliest first.
func (db *DB) DueBlobDeletes(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1
	}
	var out []string
	err := db.read(ctx, "due blob deletes", func(tx *sql.Tx) error {
		var err error
		out, err = queryStrings(ctx, tx, "SELECT key FROM blob_deletes WHERE at <= ? ORDER BY at, key LIMIT ?",
			now.UnixNano(), limit)
		return err
	})
	return out, err
}

// ForgetBlobDelete removes key from the schedule.
func (db *DB) ForgetBlobDelete(ctx context.Context, key string) error {
	return db.write(ctx, "forget blob delete", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM blob_deletes WHERE key = ?", key)
		return err
	})
}

// BlobRefs returns how many index entries reference key.
func (db *DB) BlobRefs(ctx context.Context, key string) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, "SELECT coalesce(max(refs), 0) FROM blobs WHERE key = ?", key).Scan(&n)
	return n, wrap("blob refs", err)
}
