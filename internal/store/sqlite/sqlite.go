// Package sqlite is the embedded driver of store.Store: directory, mailbox
// index and queue in one SQLite file (modernc.org/sqlite, pure Go), opened
// from a `sqlite://PATH` URL.
//
// Several processes may open the same file at once (a `bucketmail run`
// server, admin commands, separate workers): the file is in WAL mode, every
// write runs in a BEGIN IMMEDIATE transaction with a busy timeout, and
// nothing is cached across calls, so a change committed by one process is
// visible to every other at once. Watch channels see changes of other
// processes by polling a per-user change counter.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bucketmail/bucketmail/internal/store"
)

// busyTimeout is how long a connection waits for another connection's (or
// process's) lock before it gives up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// maxReaders bounds the reader pool; WAL readers never block the writer.
const maxReaders = 8

// DB is a store.Store in one SQLite file. It is safe for concurrent use by
// many goroutines, and by several processes on the same file.
type DB struct {
	w *sql.DB // one connection: in-process writers queue here, not on SQLITE_BUSY
	r *sql.DB // query_only readers

	watch  *hub
	queues *signals
	acks   atomic.Uint64 // Acks so far; every pruneEvery-th prunes done_jobs
	pruned atomic.Int64  // when a Claim last pruned done_jobs (unix ns)

	doneRetention atomic.Int64 // 0: store.DoneRetention

	wq            chan *writeReq // writes waiting for the committer (commit.go)
	txns          atomic.Uint64  // transactions the committer began
	lazyTxns      atomic.Uint64  // of which unsynced, for lazy writes (commit.go)
	closed        chan struct{}
	committerDone chan struct{}

	closeOnce sync.Once

	staged    atomic.Int64  // texts staged and not yet moved, as this process counts them (search.go)
	moveNow   chan struct{} // wakes the mover
	moverDone chan struct{}
	moveIdle  atomic.Int64 // 0: moveIdle (search.go); tests change it
	maxStaged atomic.Int64 // 0: maxStaged (search.go); tests change it
}

var (
	_ store.Store     = (*DB)(nil)
	_ store.Ledger    = (*DB)(nil)
	_ store.Snapshots = (*DB)(nil)
)

// Open opens (creating if needed) the database file at path and creates or
// migrates its schema.
func Open(path string) (*DB, error) { return openAt(path, len(migrations)) }

// openAt is Open with the schema migrated up to version at most (tests of
// the migrations open files as an older program would).
func openAt(path string, version int) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, store.ErrInvalid)
	}
	w, err := openPool(dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	if err := migrate(context.Background(), w, version); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := openPool(dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(maxReaders)
	r.SetMaxIdleConns(maxReaders)
	db := &DB{w: w, r: r, queues: newSignals(), wq: make(chan *writeReq),
		closed: make(chan struct{}), committerDone: make(chan struct{})}
	go db.committer()
	db.watch = newHub(db)
	if version >= 9 {
		db.moveNow, db.moverDone = make(chan struct{}, 1), make(chan struct{})
		go db.mover()
	}
	return db, nil
}

// openPool opens a pool of connections that keep their prepared
// statements (stmtcache.go).
func openPool(dsn string) (*sql.DB, error) {
	c, err := newConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// dsn builds the connection string. Writers begin their transactions with
// BEGIN IMMEDIATE so that two processes never both hold a read snapshot and
// then race to upgrade it (which SQLite answers with SQLITE_BUSY at once,
// without waiting); readers are query_only as a safety net.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// FULL: a job is durable when Enqueue returns (invariant 1), power loss included.
	q.Add("_pragma", "synchronous(FULL)")
	// No memory map: in WAL mode every commit makes each reader's next
	// transaction unmap the whole file and fault it back in, which under
	// IMAP load cost more than the preads it saves.
	q.Add("_pragma", "mmap_size(0)")
	q.Add("_pragma", "cache_size(-16000)")
	if readOnly {
		q.Add("_query_only", "1")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Ping checks that the file can be read.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close stops the watch poller, closes every Watch channel and the
// connections.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		db.watch.close()
		close(db.closed)
		if db.moverDone != nil {
			<-db.moverDone
		}
		<-db.committerDone
		err = errors.Join(db.r.Close(), db.w.Close())
		if err != nil {
			err = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return err
}

// write runs fn in one BEGIN IMMEDIATE transaction and commits it. A
// transaction that failed with SQLITE_BUSY (another process held the lock
// past the busy timeout, or a WAL recovery was running) is retried a few
// times: fn must therefore have no side effects outside tx.
func (db *DB) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return db.writeAs(ctx, op, fn, false)
}

// writeLazy is write for a change that needs no fsync of its own (see
// commit.go): a power failure may undo it, even after it returned.
func (db *DB) writeLazy(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return db.writeAs(ctx, op, fn, true)
}

func (db *DB) writeAs(ctx context.Context, op string, fn func(tx *sql.Tx) error, lazy bool) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = db.commit(ctx, fn, lazy)
		if err == nil || !isBusy(err) || ctx.Err() != nil {
			break
		}
	}
	return wrap(op, err)
}

// read runs fn in one read transaction, so that its queries see a single
// snapshot.
func (db *DB) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrap(op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return wrap(op, err)
	}
	return wrap(op, tx.Commit())
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// wrap adds the package and operation to err and classifies it: a
// uniqueness violation is store.ErrExists, any other constraint violation
// store.ErrInvalid; everything else the database says (SQLITE_BUSY, I/O
// errors) is temporary, the default of package fault.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	code, ok := sqliteCode(err)
	switch {
	case ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("sqlite: %s: %w (%v)", op, store.ErrExists, err)
	case ok && code&0xff == sqlite3.SQLITE_CONSTRAINT:
		return fmt.Errorf("sqlite: %s: %w (%v)", op, store.ErrInvalid, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

func isBusy(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
}

// errorf returns a store sentinel error with detail.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
