package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
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
			if err := t.insertRow(mustRow(b, id), uint32(i), 2, m, m.Flags, m.InternalDate, ""); err != nil {
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

// BenchmarkClaimBacklog claims and acks one job at a time from a queue
// 5,000 jobs deep: a claim must not cost in proportion to the backlog.
func BenchmarkClaimBacklog(b *testing.B) {
	db := openTemp(b)
	ctx := context.Background()
	const backlog = 5000
	enqueue := func(i int) {
		if err := db.Enqueue(ctx, store.Job{ID: fmt.Sprint("j", i), Queue: "q", BlobKey: "k", From: "a@b", To: []string{"c@d"}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range backlog {
		enqueue(i)
	}
	next := backlog
	for b.Loop() {
		jobs, err := db.Claim(ctx, "q", "c", 1, 0, time.Minute)
		if err != nil || len(jobs) != 1 {
			b.Fatalf("claim: %v, %v", jobs, err)
		}
		if err := db.Ack(ctx, jobs[0]); err != nil {
			b.Fatal(err)
		}
		enqueue(next) // the backlog stays as deep
		next++
	}
}
