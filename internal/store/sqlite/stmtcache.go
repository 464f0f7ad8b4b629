package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"modernc.org/sqlite"
)

// The driver parses every statement it runs anew: a third of the work of a
// short query or update. Connections keep their prepared statements here,
// by query text, so that the queries the store runs over and over are
// parsed once per connection. SQLite prepares a statement again by itself
// when the schema changes under it.

// maxCachedStmts bounds the statements one connection keeps. The store's
// queries are a few dozen fixed texts; the rest (IN lists of any length)
// take the place of an idle one.
const maxCachedStmts = 128

// connector makes connections of drv (textfuncs.go) whose statements are
// cached.
type connector struct{ dsn string }

func newConnector(dsn string) (driver.Connector, error) {
	// The package's connector checks the name as drv.Open would.
	if _, err := sqlite.NewConnector(dsn); err != nil {
		return nil, err
	}
	return connector{dsn}, nil
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: conn.(sqliteConn), stmts: map[string]*cachedStmt{}}, nil
}

func (c connector) Driver() driver.Driver { return drv }

// sqliteConn is what database/sql uses of the driver's connections; every
// one of these is forwarded, so that none falls back to a context-free path.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	st   driver.Stmt
	busy bool // its rows are open
}

// cachingConn is used by one goroutine at a time (database/sql's rule for
// driver connections), so it needs no lock.
type cachingConn struct {
	conn  sqliteConn
	stmts map[string]*cachedStmt
}

// stmt returns the cached statement of query, preparing it if need be; nil
// if it is in use by open rows or cannot be prepared (the caller then goes
// the uncached way, which reports any error).
func (c *cachingConn) stmt(ctx context.Context, query string) *cachedStmt {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil
		}
		return s
	}
	if len(c.stmts) >= maxCachedStmts && !c.evictOne() {
		return nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s := &cachedStmt{st: st}
	c.stmts[query] = s
	return s
}

// evictOne closes an idle cached statement (whichever the map yields).
func (c *cachingConn) evictOne() bool {
	for q, s := range c.stmts {
		if !s.busy {
			s.st.Close()
			delete(c.stmts, q)
			return true
		}
	}
	return false
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if s := c.stmt(ctx, query); s != nil {
		return s.st.(driver.StmtExecContext).ExecContext(ctx, args)
	}
	return c.conn.ExecContext(ctx, query, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := c.stmt(ctx, query)
	if s == nil {
		return c.conn.QueryContext(ctx, query, args)
	}
	rows, err := s.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// cachedRows frees its statement for the next query when closed.
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	r.s.busy = false
	return r.Rows.Close()
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.conn.PrepareContext(ctx, query)
}
func (c *cachingConn) Begin() (driver.Tx, error) { return c.conn.Begin() } //nolint:staticcheck // forwarded as is
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.BeginTx(ctx, opts)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.conn.Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.conn.ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.conn.IsValid() }

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	for q, s := range c.stmts {
		s.st.Close()
		delete(c.stmts, q)
	}
	return c.conn.Close()
}

// querier is what single-statement lookups need: a transaction, or the
// reader pool (*sql.DB) for reads that need no snapshot across statements:
// those skip a BEGIN and a COMMIT.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
