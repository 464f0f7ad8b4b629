package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store/storetest"
)

func BenchmarkInsertMessage(b *testing.B) {
	db := openTemp(b)
	storetest.BenchInsertMessage(b, db, storetest.BenchInbox(b, db))
}

func BenchmarkMessages10k(b *testing.B) {
	db := openTemp(b)
	id := storetest.BenchInbox(b, db)
	const n = 10000
	// One transaction for the setup, bypassing InsertMessage's per-call commit.
	err := db.mutate(context.Background(), "bench setup", "u", func(t *txn) error {
		for i := 1; i <= n; i++ {
			m := storetest.BenchMessage(i)
			if err := t.insertRow(mustRow(b, id), uint32(i), 2, m, m.Flags); err != nil {
				return err
			}
		}
		_, err := t.exec("UPDATE mailboxes SET uidnext = ?, messages = ? WHERE id = ?", n+1, n, mustRow(b, id))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	storetest.BenchMessages(b, db, id, n)
}

func mustRow(b *testing.B, id string) int64 {
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil {
		b.Fatal(err)
	}
	return n
}
