package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

func benchMessage(i int) store.NewMessage {
	return store.NewMessage{
		BlobKey:      fmt.Sprintf("msg/%08d", i),
		Prefix:       []byte("Return-Path: <a@example.org>\r\nDelivered-To: b@example.org\r\n"),
		Size:         4096,
		InternalDate: time.Now(),
		Flags:        []string{`\Seen`},
		Summary:      make([]byte, 1500),
	}
}

func benchInbox(b *testing.B) (*DB, string) {
	db := openTemp(b)
	ctx := context.Background()
	if err := db.EnsureUser(ctx, "u"); err != nil {
		b.Fatal(err)
	}
	mb, err := db.Mailbox(ctx, "u", "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	return db, mb.ID
}

func BenchmarkInsertMessage(b *testing.B) {
	db, id := benchInbox(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, _, err := db.InsertMessage(ctx, "u", id, fmt.Sprint("k", i), benchMessage(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMessages10k(b *testing.B) {
	db, id := benchInbox(b)
	ctx := context.Background()
	const n = 10000
	// One transaction for the setup, bypassing InsertMessage's per-call commit.
	err := db.mutate(ctx, "bench setup", "u", func(t *txn) error {
		for i := 1; i <= n; i++ {
			m := benchMessage(i)
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
	for b.Loop() {
		ms, err := db.Messages(ctx, "u", id, 1, 0, 0)
		if err != nil || len(ms) != n {
			b.Fatalf("Messages = %d, %v", len(ms), err)
		}
	}
}

func mustRow(b *testing.B, id string) int64 {
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil {
		b.Fatal(err)
	}
	return n
}
