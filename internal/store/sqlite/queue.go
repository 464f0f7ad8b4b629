package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// claimPoll is how often a waiting Claim looks for jobs enqueued by other
// processes; jobs enqueued through the same DB wake it at once.
const claimPoll = 75 * time.Millisecond

// defaultLease is the lease of a Claim that asks for none.
const defaultLease = 5 * time.Minute

// Job states in the jobs table.
const (
	stateReady   = 0 // pending, or delayed while not_before is in the future
	stateClaimed = 1 // leased to consumer until lease_until
	stateDead    = 2
)

// Enqueue adds j to j.Queue; ErrExists if the queue already has j.ID (dead
// or alive). j.State, or else the state of an acked job of the same id
// still remembered, is the job's state.
func (db *DB) Enqueue(ctx context.Context, j store.Job) error {
	if err := store.CheckJob(j); err != nil {
		return wrap("enqueue", err)
	}
	p, err := store.EncodeEnvelope(j)
	if err != nil {
		return wrap("enqueue", err)
	}
	var notBefore int64
	if !j.NotBefore.IsZero() {
		notBefore = j.NotBefore.UnixNano()
	}
	since := time.Now().Add(-db.retention()).UnixNano()
	err = db.write(ctx, "enqueue", func(tx *sql.Tx) error {
		// A job enqueued again within the done retention starts with the
		// state its last run left (store.Job.State).
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs(id, queue, payload, not_before, data) VALUES (?, ?, ?, ?,
			coalesce(nullif(?, ''), (SELECT data FROM done_jobs WHERE queue = ? AND id = ? AND done >= ?), ''))`,
			j.ID, j.Queue, string(p), notBefore, j.State, j.Queue, j.ID, since)
		return err
	})
	if err == nil {
		db.queues.fire(j.Queue)
	}
	return err
}

// Claim leases up to max ready jobs of queue to consumer, waiting up to wait
// for the first. Ready are pending jobs, delayed jobs whose time has come
// and claimed jobs whose lease expired (max <= 0 means 1, lease <= 0
// means defaultLease); a job whose lease expired after
// store.MaxAttempts claims is buried instead (its worker keeps dying on it).
// Claims are serialized by SQLite's write lock, across processes too, so a
// job is never leased to two consumers at once.
func (db *DB) Claim(ctx context.Context, queue, consumer string, max int, wait, lease time.Duration) ([]store.Job, error) {
	if max <= 0 {
		max = 1
	}
	if lease <= 0 {
		lease = defaultLease
	}
	if err := db.pruneDone(ctx); err != nil {
		return []store.Job{}, err
	}
	deadline := time.Now().Add(wait)
	signalled := false
	// One waiter per queue polls for jobs of other processes; the rest
	// sleep until a signal or their deadline.
	poll := db.queues.takePoll(queue)
	if poll {
		defer db.queues.givePoll(queue)
	}
	for {
		woken := db.queues.wait(queue)
		// A poll first looks with a read, so that idle consumers stay out
		// of the write lock; a signal means a job was just enqueued here.
		var jobs []store.Job
		found, err := signalled, error(nil)
		if !found {
			found, err = db.claimable(ctx, queue)
		}
		if found && err == nil {
			jobs, err = db.claimOnce(ctx, queue, consumer, max, lease)
			if len(jobs) > 0 && !signalled {
				db.queues.fire(queue) // what the poll found may be more than this
			}
		}
		if err != nil || len(jobs) > 0 {
			db.queues.release(queue, woken)
			return jobs, err
		}
		signalled = false
		left := time.Until(deadline)
		if left <= 0 {
			db.queues.release(queue, woken)
			return []store.Job{}, nil
		}
		if poll {
			left = min(left, claimPoll)
		}
		t := time.NewTimer(left)
		select {
		case <-ctx.Done():
			t.Stop()
			db.queues.release(queue, woken)
			return []store.Job{}, fmt.Errorf("sqlite: claim: %w", ctx.Err())
		case <-woken:
			// Consumed: the next claimOnce acts on it.
			signalled = true
		case <-t.C:
			db.queues.release(queue, woken)
		}
		t.Stop()
	}
}

// claimable reports whether queue holds a job a claim would take now (or
// bury): one indexed read, no write lock.
func (db *DB) claimable(ctx context.Context, queue string) (bool, error) {
	now := time.Now().UnixNano()
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM jobs
		WHERE queue = ? AND ((state = ? AND not_before <= ?) OR (state = ? AND lease_until <= ?)) LIMIT 1`,
		queue, stateReady, now, stateClaimed, now).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("claim", err)
	}
	return true, nil
}

func (db *DB) claimOnce(ctx context.Context, queue, consumer string, max int, lease time.Duration) ([]store.Job, error) {
	var jobs []store.Job
	err := db.write(ctx, "claim", func(tx *sql.Tx) error {
		jobs = nil
		now := time.Now().UnixNano()
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, last_error = 'lease expired after ' || attempts || ' attempts'
			WHERE queue = ? AND state = ? AND lease_until <= ? AND attempts >= ?`,
			stateDead, queue, stateClaimed, now, store.MaxAttempts); err != nil {
			return err
		}
		// Ready jobs in the order of their indexes, so that the first
		// rows end the search however long the queue: pending jobs (not
		// before 0) first, in enqueue order, then delayed ones by due time;
		// then jobs whose lease expired.
		var seqs []int64
		for _, q := range []struct {
			sql   string
			state int
		}{
			{`SELECT seq, id, payload, attempts, not_before, last_error, data FROM jobs INDEXED BY jobs_ready
				WHERE queue = ? AND state = ? AND not_before <= ? ORDER BY not_before, seq LIMIT ?`, stateReady},
			{`SELECT seq, id, payload, attempts, not_before, last_error, data FROM jobs INDEXED BY jobs_lease
				WHERE queue = ? AND state = ? AND lease_until <= ? ORDER BY lease_until, seq LIMIT ?`, stateClaimed},
		} {
			if len(jobs) >= max {
				break
			}
			rows, err := tx.QueryContext(ctx, q.sql, queue, q.state, now, max-len(jobs))
			if err != nil {
				return err
			}
			for rows.Next() {
				var seq int64
				j, err := scanJob(rows, &seq)
				if err != nil {
					rows.Close()
					return err
				}
				j.Queue = queue
				j.Attempts++
				jobs = append(jobs, j)
				seqs = append(seqs, seq)
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		until := now + lease.Nanoseconds()
		for _, seq := range seqs {
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, attempts = attempts + 1, lease_until = ?, consumer = ?
				WHERE seq = ?`, stateClaimed, until, consumer, seq); err != nil {
				return err
			}
		}
		return nil
	})
	return jobs, err
}

func scanJob(s scanner, seq *int64) (store.Job, error) {
	var j store.Job
	var p string
	var notBefore int64
	if err := s.Scan(seq, &j.ID, &p, &j.Attempts, &notBefore, &j.LastError, &j.State); err != nil {
		return j, err
	}
	if err := store.DecodeEnvelope([]byte(p), &j); err != nil {
		return j, err
	}
	if notBefore > 0 {
		j.NotBefore = time.Unix(0, notBefore).UTC()
	}
	return j, nil
}

// Ack removes a finished job and records its id as done (for JobKnown) in
// the same transaction. The claim is fenced by j.Attempts: if the lease
// expired and another consumer claimed the job since, Ack fails with
// ErrNotFound and leaves the new claim alone. Retry and Bury do the same.
func (db *DB) Ack(ctx context.Context, j store.Job) error {
	prune := db.acks.Add(1)%pruneEvery == 0
	return db.write(ctx, "ack", func(tx *sql.Tx) error {
		if err := settleTx(ctx, tx, j, "DELETE FROM jobs", nil, ""); err != nil {
			return err
		}
		return db.recordDone(ctx, tx, j, time.Now(), prune)
	})
}

// Renew extends the lease of j, which the caller holds, to lease from now.
func (db *DB) Renew(ctx context.Context, j store.Job, lease time.Duration) error {
	until := time.Now().Add(lease).UnixNano()
	return db.settle(ctx, "renew", j, "UPDATE jobs SET lease_until = max(lease_until, ?)",
		[]any{until}, "AND state = ?", stateClaimed)
}

// SaveState stores j.State while the caller holds j.
func (db *DB) SaveState(ctx context.Context, j store.Job) error {
	return db.settle(ctx, "save state", j, "UPDATE jobs SET data = ?", []any{j.State}, "")
}

// Retry releases j to be claimed again at or after at, with j.State.
func (db *DB) Retry(ctx context.Context, j store.Job, at time.Time, reason string) error {
	err := db.settle(ctx, "retry", j, "UPDATE jobs SET state = ?, not_before = ?, last_error = ?, lease_until = 0, consumer = '', data = ?",
		[]any{stateReady, at.UnixNano(), reason, j.State}, "")
	if err == nil {
		db.queues.fire(j.Queue)
	}
	return err
}

// Bury moves j to the dead-letter list of its queue.
func (db *DB) Bury(ctx context.Context, j store.Job, reason string) error {
	return db.settle(ctx, "bury", j, "UPDATE jobs SET state = ?, last_error = ?, lease_until = 0, data = ?",
		[]any{stateDead, reason, j.State}, "")
}

// settle runs stmt (whose arguments are args) on j if j's claim still
// holds; and (with its arguments andArgs) narrows the WHERE clause.
func (db *DB) settle(ctx context.Context, op string, j store.Job, stmt string, args []any, and string, andArgs ...any) error {
	return db.write(ctx, op, func(tx *sql.Tx) error { return settleTx(ctx, tx, j, stmt, args, and, andArgs...) })
}

func settleTx(ctx context.Context, tx *sql.Tx, j store.Job, stmt string, args []any, and string, andArgs ...any) error {
	args = append(args, j.Queue, j.ID, stateDead, j.Attempts)
	res, err := tx.ExecContext(ctx, stmt+" WHERE queue = ? AND id = ? AND state != ? AND attempts = ? "+and,
		append(args, andArgs...)...)
	if err != nil {
		return err
	}
	return mustAffect(res, "job %s/%s (attempt %d): not held", j.Queue, j.ID, j.Attempts)
}

// QueueStats counts the jobs of queue by state.
func (db *DB) QueueStats(ctx context.Context, queue string) (store.QueueStats, error) {
	var s store.QueueStats
	now := time.Now().UnixNano()
	err := db.r.QueryRowContext(ctx, `SELECT
		coalesce(sum(state = ? AND not_before <= ? OR state = ? AND lease_until <= ?), 0),
		coalesce(sum(state = ? AND lease_until > ?), 0),
		coalesce(sum(state = ? AND not_before > ?), 0),
		coalesce(sum(state = ?), 0)
		FROM jobs WHERE queue = ?`,
		stateReady, now, stateClaimed, now,
		stateClaimed, now,
		stateReady, now,
		stateDead, queue).Scan(&s.Pending, &s.InFlight, &s.Delayed, &s.Dead)
	return s, wrap("queue stats", err)
}

// DeadJobs lists up to limit dead jobs of queue (all when limit <= 0),
// oldest first.
func (db *DB) DeadJobs(ctx context.Context, queue string, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = -1 // no LIMIT in SQLite
	}
	var out []store.Job
	err := db.read(ctx, "dead jobs", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq, id, payload, attempts, not_before, last_error, data FROM jobs
			WHERE queue = ? AND state = ? ORDER BY seq LIMIT ?`, queue, stateDead, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			j, err := scanJob(rows, &seq)
			if err != nil {
				return err
			}
			j.Queue = queue
			out = append(out, j)
		}
		return rows.Err()
	})
	return out, err
}

// signals wakes Claims waiting in this process when a job becomes ready:
// one waiting Claim per fire, so that one new job does not make every idle
// worker loop run a claim transaction (all but one of which would find
// nothing, and each of which is a write through the one committer).
type signals struct {
	mu      sync.Mutex
	waiters map[string][]chan struct{} // per queue, oldest first
	polling map[string]bool            // a waiter of the queue polls
}

func newSignals() *signals {
	return &signals{waiters: map[string][]chan struct{}{}, polling: map[string]bool{}}
}

// takePoll makes the caller the poller of queue, unless there is one.
func (s *signals) takePoll(queue string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.polling[queue] {
		return false
	}
	s.polling[queue] = true
	return true
}

// givePoll ends the caller's turn as poller of queue.
func (s *signals) givePoll(queue string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.polling, queue)
}

// wait registers a waiter of queue; its channel is closed by a fire. The
// caller must release it when it stops waiting.
func (s *signals) wait(queue string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.waiters[queue] = append(s.waiters[queue], ch)
	return ch
}

// release ends the wait of ch. A fire it received but its Claim may not
// have acted on goes to the next waiter: a spurious wake-up costs one empty
// claim, a lost one would leave a job waiting for the poll timer.
func (s *signals) release(queue string, ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.waiters[queue]
	for i, c := range w {
		if c == ch {
			s.waiters[queue] = append(w[:i:i], w[i+1:]...)
			return
		}
	}
	s.fireLocked(queue)
}

// fire wakes the oldest waiter of queue, if any.
func (s *signals) fire(queue string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fireLocked(queue)
}

func (s *signals) fireLocked(queue string) {
	w := s.waiters[queue]
	if len(w) == 0 {
		return
	}
	close(w[0])
	if len(w) == 1 {
		delete(s.waiters, queue)
	} else {
		s.waiters[queue] = w[1:]
	}
}
