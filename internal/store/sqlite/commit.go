package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
//
// A lazy write (writeLazy) needs no fsync of its own: it is state that a
// power failure may take back without harm, such as the \Recent mark. The
// lazy writes of a batch commit first, in a transaction of their own with
// synchronous=NORMAL, so they wait for no fsync; in WAL mode such a commit
// is still atomic and visible to every reader at once, and it becomes
// durable with the next synced commit. The durable writes of the batch
// follow, in their transaction, synced as before.

// maxBatch bounds the writes of one transaction, so that a long queue
// does not make one COMMIT wait for all of it.
const maxBatch = 128

type writeReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
	lazy bool
}

// commit queues fn for the committer and waits for the outcome of the
// transaction that ran it.
func (db *DB) commit(ctx context.Context, fn func(tx *sql.Tx) error, lazy bool) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1), lazy: lazy}
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
		lazy, durable := split(batch)
		if len(lazy) > 0 {
			db.runLazy(lazy)
		}
		db.runBatch(durable)
	}
}

// split returns the lazy writes of batch and the others, each in the
// order they came. Writes of one batch were all waiting at once, so any
// order between them is one they could have run in.
func split(batch []*writeReq) (lazy, durable []*writeReq) {
	for _, r := range batch {
		if r.lazy {
			lazy = append(lazy, r)
		} else {
			durable = append(durable, r)
		}
	}
	return lazy, durable
}

// runLazy runs lazy writes with synchronous=NORMAL on the writer
// connection, and sets it back to FULL; a connection that cannot be set
// back is dropped (the pool opens a new one with the DSN's FULL), so no
// durable write ever commits without its fsync.
func (db *DB) runLazy(batch []*writeReq) {
	ctx := context.Background()
	c, err := db.w.Conn(ctx)
	if err != nil {
		db.runBatch(batch)
		return
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		c.Close()
		db.runBatch(batch) // synced like any other
		return
	}
	db.lazyTxns.Add(1)
	for len(batch) > 0 {
		batch = db.tryBatchOn(func() (*sql.Tx, error) { return c.BeginTx(ctx, nil) }, batch)
	}
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		c.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// runBatch runs batch in one transaction. When a function fails, the
// writes not yet answered run again in a new one: write functions have no
// side effects outside tx (see write), so running one again is safe.
func (db *DB) runBatch(batch []*writeReq) {
	begin := func() (*sql.Tx, error) { return db.w.BeginTx(context.Background(), nil) }
	for len(batch) > 0 {
		batch = db.tryBatchOn(begin, batch)
	}
}

// tryBatchOn runs batch in a transaction from begin, answers what it
// could and returns the writes to run again.
func (db *DB) tryBatchOn(begin func() (*sql.Tx, error), batch []*writeReq) []*writeReq {
	db.txns.Add(1)
	tx, err := begin()
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
