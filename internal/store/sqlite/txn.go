package sqlite

import (
	"context"
	"database/sql"
)

// txn is a write transaction on behalf of one user. touch records that the
// user's mailboxes changed: the commit then bumps the user's change counter
// (seen by Watch in other processes) and wakes this process's watchers.
type txn struct {
	*sql.Tx
	ctx     context.Context
	userID  string
	touched bool
	staged  int // search texts staged (search.go)
}

func (t *txn) touch() { t.touched = true }

// mutate runs fn in a write transaction for userID.
func (db *DB) mutate(ctx context.Context, op, userID string, fn func(t *txn) error) error {
	touched := false
	staged := 0
	var counter int64
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		t := &txn{Tx: tx, ctx: ctx, userID: userID}
		if err := fn(t); err != nil {
			return err
		}
		touched, staged = t.touched, t.staged
		if !touched {
			return nil
		}
		return tx.QueryRowContext(ctx, `INSERT INTO changes(user_id, counter) VALUES (?, 1)
			ON CONFLICT(user_id) DO UPDATE SET counter = counter + 1 RETURNING counter`, userID).Scan(&counter)
	})
	if err == nil && touched {
		db.watch.signal(userID, counter)
	}
	if err == nil {
		db.noteStaged(staged)
	}
	return err
}

func (t *txn) exec(query string, args ...any) (sql.Result, error) {
	return t.ExecContext(t.ctx, query, args...)
}

func (t *txn) queryRow(query string, args ...any) *sql.Row {
	return t.QueryRowContext(t.ctx, query, args...)
}
