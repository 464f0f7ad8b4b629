package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// openWithTable opens a new database with a table gc of keys.
func openWithTable(t *testing.T) (*DB, context.Context) {
	db := openTemp(t)
	ctx := context.Background()
	if err := db.write(ctx, "setup", func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE gc (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db, ctx
}

// TestGroupCommit runs many concurrent writes, every third of which fails
// after writing: the failed ones leave nothing, the others all commit, and
// each writer gets its own outcome.
func TestGroupCommit(t *testing.T) {
	db, ctx := openWithTable(t)
	errPlanned := errors.New("planned failure")
	txns := db.txns.Load()
	const writers = 300
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			errs[i] = db.write(ctx, "gc", func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO gc (k) VALUES (?)`, fmt.Sprint(i)); err != nil {
					return err
				}
				if i%3 == 0 {
					return errPlanned
				}
				return nil
			})
		})
	}
	wg.Wait()
	if n := db.txns.Load() - txns; n >= writers {
		t.Errorf("%d writes took %d transactions: none were grouped", writers, n)
	} else {
		t.Logf("%d writes in %d transactions", writers, n)
	}
	for i, err := range errs {
		if i%3 == 0 && !errors.Is(err, errPlanned) {
			t.Errorf("write %d: got %v, want the planned failure", i, err)
		}
		if i%3 != 0 && err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	rows, err := db.r.Query(`SELECT k FROM gc`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	for i := range writers {
		if got[fmt.Sprint(i)] != (i%3 != 0) {
			t.Errorf("row %d present: %v", i, got[fmt.Sprint(i)])
		}
	}
}

// TestGroupCommitStatementError: a write whose statement fails (a
// constraint) is rolled back alone while others share its transaction.
func TestGroupCommitStatementError(t *testing.T) {
	db, ctx := openWithTable(t)
	const writers = 100
	var wg sync.WaitGroup
	var failed sync.Map
	for i := range writers {
		wg.Go(func() {
			// Pairs insert the same key: exactly one of each pair wins.
			err := db.write(ctx, "gc", func(tx *sql.Tx) error {
				_, err := tx.Exec(`INSERT INTO gc (k) VALUES (?)`, fmt.Sprint(i/2))
				return err
			})
			if err != nil {
				failed.Store(i, err)
			}
		})
	}
	wg.Wait()
	n := 0
	failed.Range(func(_, _ any) bool { n++; return true })
	if n != writers/2 {
		t.Errorf("%d writes failed, want %d", n, writers/2)
	}
	var rows int
	if err := db.r.QueryRow(`SELECT count(*) FROM gc`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != writers/2 {
		t.Errorf("%d rows, want %d", rows, writers/2)
	}
}
