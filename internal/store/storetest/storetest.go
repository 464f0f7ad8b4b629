// Package storetest is the conformance suite of store.Store: every driver
// (sqlite, redis) must pass it. It tests what the interfaces promise, never
// how a driver keeps it.
//
// A driver's test calls Run with a function that opens a new, empty store;
// a driver whose stores can be opened twice (several processes on one
// SQLite file, several gateways on one Redis) also calls RunShared, which
// checks that a change made through one handle is seen through the other:
// Watch wake-ups, claim exclusivity and visibility without caching.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Run runs the conformance suite; open returns a new, empty store for each
// test and is responsible for closing it (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Directory", func(t *testing.T) { testDirectory(t, open) })
	t.Run("Mailboxes", func(t *testing.T) { testMailboxes(t, open) })
	t.Run("Messages", func(t *testing.T) { testMessages(t, open) })
	t.Run("IMAPState", func(t *testing.T) { testIMAPState(t, open) })
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, open) })
	t.Run("CondStore", func(t *testing.T) { testCondStore(t, open) })
	t.Run("Orphans", func(t *testing.T) { testOrphans(t, open) })
	t.Run("Quota", func(t *testing.T) { testQuota(t, open) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, open) })
	t.Run("Watch", func(t *testing.T) { testWatch(t, open) })
	t.Run("Queue", func(t *testing.T) { testQueue(t, open) })
	t.Run("JobState", func(t *testing.T) { testJobState(t, open) })
	t.Run("ClaimLoop", func(t *testing.T) { testClaimLoop(t, open) })
}

// RunShared runs the tests that need two handles on one backing store.
// openPair returns two handles on one new, empty store (for SQLite: two
// Opens of one file; for Redis: two clients of one server), both closed by
// openPair's cleanup.
func RunShared(t *testing.T, openPair func(t *testing.T) (a, b store.Store)) {
	t.Run("Visibility", func(t *testing.T) { testSharedVisibility(t, openPair) })
	t.Run("Watch", func(t *testing.T) { testSharedWatch(t, openPair) })
	t.Run("ClaimExclusive", func(t *testing.T) { testSharedClaim(t, openPair) })
	t.Run("RecentExclusive", func(t *testing.T) {
		a, b := openPair(t)
		claimConcurrently(t, a, b)
	})
	t.Run("UnchangedSinceExclusive", func(t *testing.T) {
		a, b := openPair(t)
		unchangedSinceConcurrently(t, a, b)
	})
	t.Run("ModSeqAcrossHandles", func(t *testing.T) {
		a, b := openPair(t)
		modSeqAcross(t, a, b)
	})
}

// notifyWithin is how long a Watch wake-up may take. The interface promises
// a second; the margin absorbs a loaded test machine (-race, 2 cores).
const notifyWithin = 2 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

// newUser creates domain example.org (if needed) and a user with its
// default mailboxes.
func newUser(t *testing.T, s store.Store, local string) store.User {
	t.Helper()
	ctx := ctxFor(t)
	if ok, err := s.HasDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	} else if !ok {
		must(t, s.AddDomain(ctx, "example.org"))
	}
	u, err := s.AddUser(ctx, local+"@example.org", "$argon2id$fake")
	must(t, err)
	must(t, s.EnsureUser(ctx, u.ID))
	return u
}

func mailbox(t *testing.T, s store.Store, u store.User, name string) store.Mailbox {
	t.Helper()
	mb, err := s.Mailbox(ctxFor(t), u.ID, name)
	must(t, err)
	return mb
}

var blobSeq atomic.Int64

// msg returns a new message with a fresh blob key.
func msg(size int64, flags ...string) store.NewMessage {

	return store.NewMessage{
		BlobKey:      fmt.Sprintf("msg/test%06d", blobSeq.Add(1)),
		Prefix:       []byte("Delivered-To: a@example.org\r\n"),
		Size:         size,
		InternalDate: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Flags:        flags,
		Summary:      []byte(`{"s":1}`),
	}
}

func insert(t *testing.T, s store.Store, u store.User, mb store.Mailbox, m store.NewMessage) uint32 {
	t.Helper()
	uid, dup, err := s.InsertMessage(ctxFor(t), u.ID, mb.ID, "", m)
	must(t, err)
	if dup {
		t.Fatal("insert without key reported dup")
	}
	return uid
}

func uids(t *testing.T, s store.Store, u store.User, mb store.Mailbox) []uint32 {
	t.Helper()
	got, err := s.UIDs(ctxFor(t), u.ID, mb.ID)
	must(t, err)
	return got
}

// waitSignal fails unless ch delivers within notifyWithin.
func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: watch channel closed", what)
		}
	case <-time.After(notifyWithin):
		t.Fatalf("%s: no watch signal within %v", what, notifyWithin)
	}
}

// drain empties ch of a pending value.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}
