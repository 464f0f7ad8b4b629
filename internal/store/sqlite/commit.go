package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// Group commit. With synchronous=FULL every COMMIT waits for an fsync of
// the WAL, and the one writer connection makes writers take turns, so a
// write costs a whole fsync however little it changes. The committer runs
// the writes that queued up while the previous COMMIT was syncing in one
// transaction and commits them together: one fsync for the lot. Each
// writer still returns only after the COMMIT that holds its changes, so a
// write is as durable as before (invariant 1). A writer whose function
// fails gets its error with nothing of it kept: the transaction is rolled
// back and the other writes run again in a new one.

// maxBatch bounds the writes of one transaction, so that a long queue
// does not make one COMMIT wait for all of it.
const maxBatch = 128

type writeReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// commit queues fn for the committer and waits for the outcome of the
// transaction that ran it.
func (db *DB) commit(ctx context.Context, fn func(tx *sql.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.wq <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closed:
		return errClosed
	}
	// Once queued, the write may commit whatever ctx does: wait for it.
	return <-req.done
}

var errClosed = errors.New("database is closed")

// committer takes the queued writes in batches until the database closes.
func (db *DB) committer() {
	defer close(db.committerDone)
	for {
		var first *writeReq
		select {
		case first = <-db.wq:
		case <-db.closed:
			return
		}
		batch := []*writeReq{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-db.wq:
				batch = append(batch, r)
			default:
				break more
			}
		}
		db.runBatch(batch)
	}
}

// runBatch runs batch in one transaction. When a function fails, the
// writes not yet answered run again in a new one: write functions have no
// side effects outside tx (see write), so running one again is safe.
func (db *DB) runBatch(batch []*writeReq) {
	for len(batch) > 0 {
		batch = db.tryBatch(batch)
	}
}

// tryBatch answers what it could and returns the writes to run again.
func (db *DB) tryBatch(batch []*writeReq) []*writeReq {
	db.txns.Add(1)
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			r.done <- err
		}
		return nil
	}
	var ok []*writeReq
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		if err := r.fn(tx); err != nil {
			// Its changes must go, and SQLite cannot undo one function's
			// statements without a savepoint around each (two more
			// statements per write, on the path of every write): roll
			// the whole transaction back instead and run the others again.
			// Failing writes are rare, so this costs less.
			r.done <- errors.Join(err, ignoreDone(tx.Rollback()))
			return append(ok, batch[i+1:]...)
		}
		ok = append(ok, r)
	}
	err = tx.Commit()
	if err != nil && isBusy(err) && len(ok) > 1 {
		// Another process held the lock: write() retries each on its own.
		ignoreDone(tx.Rollback())
	}
	for _, r := range ok {
		r.done <- err
	}
	return nil
}
