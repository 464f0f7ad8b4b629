package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// The queue is a Redis Stream per queue with one consumer group (see
// claim.lua and keys.go). A job's lease is its own: the lease given to the
// Claim that took it is recorded per job in Q:leases, and an expired lease
// is taken over with XCLAIM of exactly that entry. (XAUTOCLAIM has one
// min-idle for the whole stream, which cannot honour a different lease per
// claim; the sorted set of lease ends can.) Attempts are counted per job,
// not by the group's delivery counter, because a retried job is a new
// stream entry.

// defaultLease is the lease of a Claim that asks for none.
const defaultLease = 5 * time.Minute

// maxBlock bounds one blocking wait of Claim, so that a cancelled context
// is noticed soon even though a blocked XREAD does not watch it.
const maxBlock = time.Second

func checkQueue(queue string) error {
	if queue == "" || !validName(queue) {
		return errorf(store.ErrInvalid, "queue %q", queue)
	}
	return nil
}

// Enqueue adds j to j.Queue; ErrExists if the queue already has j.ID (dead
// or alive). A NotBefore in the future delays the job until then.
func (db *DB) Enqueue(ctx context.Context, j store.Job) error {
	err := store.CheckJob(j)
	if err == nil {
		err = checkQueue(j.Queue)
	}
	if err != nil {
		return wrap("enqueue", err)
	}
	p, err := store.EncodeEnvelope(j)
	if err != nil {
		return wrap("enqueue", err)
	}
	var delay, notBefore int64
	if !j.NotBefore.IsZero() {
		notBefore = j.NotBefore.UnixNano()
		delay = time.Until(j.NotBefore).Milliseconds()
	}
	Q := queuePrefix(j.Queue)
	return wrap("enqueue", db.run(ctx, scripts.enqueue, Q+":stream", Q, j.ID, p, max(delay, 0), notBefore, j.State).Err())
}

// Claim leases up to max ready jobs of queue to consumer, waiting up to wait
// for the first (max <= 0 means 1, lease <= 0 means defaultLease). While
// it waits it blocks on XREAD for a new stream entry, or until the next
// delayed job or lease end is due.
func (db *DB) Claim(ctx context.Context, queue, consumer string, max int, wait, lease time.Duration) ([]store.Job, error) {
	if err := checkQueue(queue); err != nil {
		return nil, wrap("claim", err)
	}
	if max <= 0 {
		max = 1
	}
	if lease <= 0 {
		lease = defaultLease
	}
	Q := queuePrefix(queue)
	deadline := time.Now().Add(wait)
	for {
		v, err := db.run(ctx, scripts.claim, Q+":stream", Q, consumer, max, lease.Milliseconds(), store.MaxAttempts,
			db.retention().Milliseconds()).Slice()
		if err != nil {
			return []store.Job{}, wrap("claim", err)
		}
		jobs, err := parseJobs(queue, v[2])
		if err != nil || len(jobs) > 0 {
			return jobs, wrap("claim", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return []store.Job{}, nil
		}
		block := min(left, maxBlock)
		if due, _ := v[0].(int64); due >= 0 {
			block = min(block, time.Duration(due)*time.Millisecond)
		}
		stream, last := Q+":stream", str(v[1])
		if err := db.relay.wait(ctx, stream, block, func() error { return db.waitEntry(ctx, stream, last, block) }); err != nil {
			return []store.Job{}, wrap("claim", err)
		}
	}
}

// waitEntry blocks until the stream has an entry after lastID, or for d.
func (db *DB) waitEntry(ctx context.Context, stream, lastID string, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d = max(d, time.Millisecond) // BLOCK 0 would wait forever
	err := db.rdb.XRead(ctx, &goredis.XReadArgs{Streams: []string{stream, lastID}, Count: 1, Block: d}).Err()
	if err == goredis.Nil {
		return nil
	}
	return err
}

// parseJobs reads the {id, envelope, attempts, last error, not-before,
// state} tuples of a script reply.
func parseJobs(queue string, raw any) ([]store.Job, error) {
	v, _ := raw.([]any)
	out := make([]store.Job, 0, len(v)/6)
	for i := 0; i+6 <= len(v); i += 6 {
		j := store.Job{ID: str(v[i]), Queue: queue, LastError: str(v[i+3]), State: str(v[i+5])}
		if err := store.DecodeEnvelope([]byte(str(v[i+1])), &j); err != nil {
			return nil, err
		}
		switch a := v[i+2].(type) {
		case int64:
			j.Attempts = int(a)
		case string:
			j.Attempts, _ = strconv.Atoi(a)
		}
		if nb, _ := strconv.ParseInt(str(v[i+4]), 10, 64); nb > 0 {
			j.NotBefore = time.Unix(0, nb).UTC()
		}
		out = append(out, j)
	}
	return out, nil
}

// Ack removes a finished job and records it in the queue's done set (see
// JobKnown). The claim is fenced by j.Attempts: if the
// lease expired and another consumer claimed the job since, Ack fails with
// ErrNotFound and leaves the new claim alone. Retry and Bury do the same.
func (db *DB) Ack(ctx context.Context, j store.Job) error {
	return db.settle(ctx, "ack", j, 0, "", 0)
}

// Renew extends the lease of j, which the caller holds, to lease from now
// (by the Redis clock).
func (db *DB) Renew(ctx context.Context, j store.Job, lease time.Duration) error {
	return db.settle(ctx, "renew", j, max(lease.Milliseconds(), 1), "", 0)
}

// SaveState stores j.State while the caller holds j.
func (db *DB) SaveState(ctx context.Context, j store.Job) error {
	return db.settle(ctx, "save", j, 0, "", 0)
}

// Retry releases j to be claimed again at or after at. The delay is taken
// relative to this process's clock and applied on the Redis clock, so that
// clock skew between hosts does not shift it.
func (db *DB) Retry(ctx context.Context, j store.Job, at time.Time, reason string) error {
	return db.settle(ctx, "retry", j, max(time.Until(at).Milliseconds(), 0), reason, at.UnixNano())
}

// Bury moves j to the dead-letter stream of its queue.
func (db *DB) Bury(ctx context.Context, j store.Job, reason string) error {
	return db.settle(ctx, "bury", j, 0, reason, 0)
}

func (db *DB) settle(ctx context.Context, op string, j store.Job, delay int64, reason string, notBefore int64) error {
	if err := checkQueue(j.Queue); err != nil {
		return wrap(op, errorf(store.ErrNotFound, "%v", err))
	}
	Q := queuePrefix(j.Queue)
	return wrap(op, db.run(ctx, scripts.settle, Q+":stream", Q, j.ID, j.Attempts, op, delay, reason, notBefore,
		db.retention().Milliseconds(), j.State).Err())
}

// QueueStats counts the jobs of queue by state.
func (db *DB) QueueStats(ctx context.Context, queue string) (store.QueueStats, error) {
	if err := checkQueue(queue); err != nil {
		return store.QueueStats{}, wrap("queue stats", err)
	}
	Q := queuePrefix(queue)
	v, err := db.run(ctx, scripts.stats, Q+":stream", Q).Int64Slice()
	if err != nil {
		return store.QueueStats{}, wrap("queue stats", err)
	}
	return store.QueueStats{Pending: int(v[0]), InFlight: int(v[1]), Delayed: int(v[2]), Dead: int(v[3])}, nil
}

// DeadJobs lists up to limit dead jobs of queue (all when limit <= 0),
// oldest first.
func (db *DB) DeadJobs(ctx context.Context, queue string, limit int) ([]store.Job, error) {
	if err := checkQueue(queue); err != nil {
		return nil, wrap("dead jobs", err)
	}
	Q := queuePrefix(queue)
	v, err := db.run(ctx, scripts.dead, Q+":stream", Q, max(limit, 0)).Result()
	if err != nil {
		return nil, wrap("dead jobs", err)
	}
	jobs, err := parseJobs(queue, v)
	return jobs, wrap("dead jobs", err)
}
