package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// BenchMessage is the index entry the drivers' benchmarks store: a typical
// prefix and a 1,500-byte summary.
func BenchMessage(i int) store.NewMessage {
	return store.NewMessage{
		BlobKey:      fmt.Sprintf("msg/%08d", i),
		Prefix:       []byte("Return-Path: <a@example.org>\r\nDelivered-To: b@example.org\r\n"),
		Size:         4096,
		InternalDate: time.Now(),
		Flags:        []string{`\Seen`},
		Summary:      make([]byte, 1500),
	}
}

// BenchInbox makes the user "u" in s and returns the ID of its INBOX.
func BenchInbox(b testing.TB, s store.Store) string {
	ctx := context.Background()
	if err := s.EnsureUser(ctx, "u"); err != nil {
		b.Fatal(err)
	}
	mb, err := s.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		b.Fatal(err)
	}
	return mb.ID
}

// BenchInsertMessage measures InsertMessage, one delivery per iteration.
func BenchInsertMessage(b *testing.B, s store.Store, inbox string) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, _, err := s.InsertMessage(ctx, "u", inbox, fmt.Sprint("k", i), BenchMessage(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchMessages measures listing a mailbox of n messages, which the caller
// filled.
func BenchMessages(b *testing.B, s store.Store, inbox string, n int) {
	ctx := context.Background()
	for b.Loop() {
		ms, err := s.Messages(ctx, "u", inbox, 1, 0, 0)
		if err != nil || len(ms) != n {
			b.Fatalf("Messages = %d, %v", len(ms), err)
		}
	}
}
