package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// The ledger (store.Ledger) lives under the hash tag {ledger} (see keys.go),
// except the done records of a queue, which are kept with the queue's own
// keys so that Ack records them in the same script.

var _ store.Ledger = (*DB)(nil)

const (
	ledgerLeasePrefix = "{ledger}:lease:"
	ledgerCheckpoints = "{ledger}:checkpoints"
	ledgerBlobDeletes = "{ledger}:gc"
)

// scheduleChunk is how many keys one ZADD of ScheduleBlobDeletes carries.
const scheduleChunk = 1000

// JobKnown reports whether id is in queue (ready, claimed, delayed or dead)
// or was acked within store.DoneRetention, by the Redis clock.
func (db *DB) JobKnown(ctx context.Context, queue, id string) (bool, error) {
	return db.jobKnown(ctx, "job known", queue, id, false)
}

// JobQueued reports whether id is still in queue: ready, claimed, delayed
// or dead, but not acked.
func (db *DB) JobQueued(ctx context.Context, queue, id string) (bool, error) {
	return db.jobKnown(ctx, "job queued", queue, id, true)
}

func (db *DB) jobKnown(ctx context.Context, op, queue, id string, queuedOnly bool) (bool, error) {
	if checkQueue(queue) != nil || id == "" {
		return false, nil // no such queue or job can exist
	}
	only := "0"
	if queuedOnly {
		only = "1"
	}
	Q := queuePrefix(queue)
	n, err := db.run(ctx, scripts.jobKnown, Q+":stream", Q, id, db.retention().Milliseconds(), only).Int()
	return n == 1, wrap(op, err)
}

// SetDoneRetention changes how long acked jobs (and their state) are
// remembered (default store.DoneRetention); tests shorten it.
func (db *DB) SetDoneRetention(d time.Duration) { db.doneRetention.Store(int64(d)) }

func (db *DB) retention() time.Duration {
	if d := time.Duration(db.doneRetention.Load()); d > 0 {
		return d
	}
	return store.DoneRetention
}

// TryLease takes the lease name for holder until ttl from now (by the
// Redis clock), or renews it if holder has it; it returns false while
// another holder's lease runs. The lease key expires with the lease.
func (db *DB) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	err := store.CheckLease(name, holder, ttl)
	if err == nil && ttl < time.Millisecond {
		err = errorf(store.ErrInvalid, "lease ttl %v below the millisecond of PX", ttl)
	}
	if err != nil {
		return false, wrap("try lease", err)
	}
	n, err := scripts.lease.Run(ctx, db.rdb, []string{ledgerLeasePrefix + name}, holder, ttl.Milliseconds()).Int()
	return n == 1, wrap("try lease", err)
}

// Checkpoint returns the value saved under name, or "".
func (db *DB) Checkpoint(ctx context.Context, name string) (string, error) {
	v, err := db.rdb.HGet(ctx, ledgerCheckpoints, name).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	return v, wrap("checkpoint", err)
}

// SetCheckpoint saves value under name.
func (db *DB) SetCheckpoint(ctx context.Context, name, value string) error {
	return wrap("set checkpoint", db.rdb.HSet(ctx, ledgerCheckpoints, name, value).Err())
}

// DeleteCheckpoint removes name.
func (db *DB) DeleteCheckpoint(ctx context.Context, name string) error {
	return wrap("delete checkpoint", db.rdb.HDel(ctx, ledgerCheckpoints, name).Err())
}

// CheckpointNames lists the names that start with prefix (HSCAN, so the
// hash is never read in one command).
func (db *DB) CheckpointNames(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	var cursor uint64
	for {
		kv, next, err := db.rdb.HScan(ctx, ledgerCheckpoints, cursor, globEscape(prefix)+"*", 1000).Result()
		if err != nil {
			return nil, wrap("checkpoint names", err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if strings.HasPrefix(kv[i], prefix) {
				out = append(out, kv[i])
			}
		}
		if cursor = next; cursor == 0 {
			return out, nil
		}
	}
}

// globEscape quotes the glob characters of s for a MATCH pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ScheduleBlobDeletes records keys for deletion at or after at. The
// schedule is a sorted set scored by the due time in unix milliseconds,
// rounded up so that a key never comes due early; ZADD GT keeps the later
// time of a key scheduled twice.
func (db *DB) ScheduleBlobDeletes(ctx context.Context, keys []string, at time.Time) error {
	return wrap("schedule blob deletes", db.schedule(ctx, keys, at))
}

func (db *DB) schedule(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	score := float64(ceilMs(at))
	_, err := db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i := 0; i < len(keys); i += scheduleChunk {
			chunk := keys[i:min(i+scheduleChunk, len(keys))]
			members := make([]goredis.Z, len(chunk))
			for j, k := range chunk {
				members[j] = goredis.Z{Score: score, Member: k}
			}
			p.ZAddGT(ctx, ledgerBlobDeletes, members...)
		}
		return nil
	})
	return err
}

// ReleaseBlob schedules the deletion of key now if it has no reference:
// in one script on a single server or Sentinel, in two steps on a Cluster
// (the counter and the schedule are in different slots), where a
// reference taken in between leaves a scheduled key that the collector
// finds referenced and takes off the schedule.
func (db *DB) ReleaseBlob(ctx context.Context, key string) error {
	score := ceilMs(time.Now())
	if !db.cluster {
		err := scripts.releaseBlob.Run(ctx, db.rdb, []string{refKey(key), ledgerBlobDeletes}, score, key).Err()
		return wrap("release blob", err)
	}
	n, err := db.BlobRefs(ctx, key)
	if err != nil || n > 0 {
		return err
	}
	return wrap("release blob", db.schedule(ctx, []string{key}, time.UnixMilli(score)))
}

// DueBlobDeletes returns up to limit keys (all when limit <= 0) due at or
// before now, earliest first.
func (db *DB) DueBlobDeletes(ctx context.Context, now time.Time, limit int) ([]string, error) {
	by := &goredis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10)}
	if limit > 0 {
		by.Count = int64(limit)
	}
	out, err := db.rdb.ZRangeByScore(ctx, ledgerBlobDeletes, by).Result()
	return out, wrap("due blob deletes", err)
}

// ForgetBlobDelete removes key from the schedule.
func (db *DB) ForgetBlobDelete(ctx context.Context, key string) error {
	return wrap("forget blob delete", db.rdb.ZRem(ctx, ledgerBlobDeletes, key).Err())
}

// forgetBlobDeletes takes keys, referenced again, off the schedule.
func (db *DB) forgetBlobDeletes(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i := 0; i < len(keys); i += scheduleChunk {
			chunk := keys[i:min(i+scheduleChunk, len(keys))]
			members := make([]any, len(chunk))
			for j, k := range chunk {
				members[j] = k
			}
			p.ZRem(ctx, ledgerBlobDeletes, members...)
		}
		return nil
	})
	return err
}

// BlobRefs returns the reference count of key (0 when it has none).
func (db *DB) BlobRefs(ctx context.Context, key string) (int64, error) {
	n, err := db.rdb.Get(ctx, refKey(key)).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	return max(n, 0), wrap("blob refs", err)
}

// ceilMs returns t in unix milliseconds, rounded up.
func ceilMs(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%1e6 != 0 { // UnixMilli rounds down
		ms++
	}
	return ms
}
