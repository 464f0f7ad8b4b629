package sqlite

import (
	"context"
	"fmt"
	"testing"
)

// TestStmtCache: the same query run again while its first rows are still
// open gets a statement of its own; more distinct queries than the cache
// holds still run; and a cached statement gives fresh results each time.
func TestStmtCache(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO t(n) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT n FROM t WHERE n >= ? ORDER BY n"
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var n int
		if err := outer.Scan(&n); err != nil {
			t.Fatal(err)
		}
		// The same text while outer is open.
		var inner int
		if err := tx.QueryRowContext(ctx, q, n).Scan(&inner); err != nil || inner != n {
			t.Fatalf("nested query for %d: %d, %v", n, inner, err)
		}
		got = append(got, n)
	}
	if err := outer.Close(); err != nil || fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("outer rows %v, %v", got, err)
	}
	for i := range 2 * maxCachedStmts {
		var n int
		if err := tx.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) + %d FROM t", i)).Scan(&n); err != nil || n != 3+i {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t(n) VALUES (?)", 9); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 4 {
		t.Fatalf("count after insert: %d, %v", n, err)
	}
}
