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
// transaction, each inside its own SAVEPOINT, and commits them together:
// one fsync for the lot. Each writer still returns only after the COMMIT
// that holds its changes, so a write is as durable as before (invariant 1);
// a writer whose function fails is rolled back to its savepoint alone and
// gets its error, the others are unaffected.

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

// runBatch runs batch in one transaction. If the transaction itself breaks
// (SQLITE_BUSY from another process, an interrupted statement that rolled
// it back), the writes not yet answered run again in a new one: write
// functions have no side effects outside tx, so running one again is safe.
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
	single := len(batch) == 1
	var ok []*writeReq
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		if single {
			if err := r.fn(tx); err != nil {
				r.done <- errors.Join(err, ignoreDone(tx.Rollback()))
				return nil
			}
			ok = append(ok, r)
			break
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			return db.abort(tx, err, ok, batch[i:])
		}
		fnErr := r.fn(tx)
		if fnErr == nil {
			if _, err := tx.Exec("RELEASE w"); err != nil {
				return db.abort(tx, err, ok, batch[i:])
			}
			ok = append(ok, r)
			continue
		}
		if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
			// The transaction is gone with this write's failure: it gets
			// its error, the others run again.
			r.done <- fnErr
			return db.abort(tx, nil, ok, batch[i+1:])
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			r.done <- fnErr
			return db.abort(tx, nil, ok, batch[i+1:])
		}
		r.done <- fnErr
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

// abort rolls tx back and returns the writes to run again. With a cause,
// the transaction failed before any function could be blamed: with one
// write left, that write gets the error instead of looping.
func (db *DB) abort(tx *sql.Tx, cause error, ok, rest []*writeReq) []*writeReq {
	ignoreDone(tx.Rollback())
	again := append(ok, rest...)
	if cause != nil && len(again) <= 1 {
		for _, r := range again {
			r.done <- cause
		}
		return nil
	}
	if cause != nil {
		// Run them one by one, so a cause tied to one of them ends there.
		for _, r := range again {
			db.runBatch([]*writeReq{r})
		}
		return nil
	}
	return again
}
