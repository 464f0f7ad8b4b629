package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// querier is what single-statement lookups need: a transaction, or the
// reader pool through prepared statements.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readers runs read statements outside any transaction (each sees the
// latest commit), through statements prepared once: the driver otherwise
// parses every query anew, and a transaction adds a BEGIN and a COMMIT to
// parse and run. For reads that need no snapshot across statements.
type readers struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt // by query text; queries are constants
}

func newReaders(db *sql.DB) *readers { return &readers{db: db, stmts: map[string]*sql.Stmt{}} }

func (r *readers) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.stmts[query]; ok {
		return st, nil
	}
	st, err := r.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	r.stmts[query] = st
	return st, nil
}

func (r *readers) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext is sql.DB's: a failed prepare shows in Scan's error.
func (r *readers) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := r.stmt(ctx, query)
	if err != nil {
		// A Row cannot be made with an error outside database/sql; the
		// pool's own path reports the same prepare error.
		return r.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// close closes the prepared statements.
func (r *readers) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for q, st := range r.stmts {
		st.Close()
		delete(r.stmts, q)
	}
}
