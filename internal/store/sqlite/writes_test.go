package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// TestClaimRecentLazy checks that a \Recent claim commits without an
// fsync of its own (a lazy write, commit.go) and that the writer
// connection is synced again for the writes after it.
func TestClaimRecentLazy(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	insertOne(t, db, "u", inbox.ID)
	lazy := db.lazyTxns.Load()
	if first, last, err := db.ClaimRecent(ctx, "u", inbox.ID); err != nil || first != 1 || last != 1 {
		t.Fatalf("ClaimRecent = %d:%d, %v", first, last, err)
	}
	if n := db.lazyTxns.Load() - lazy; n != 1 {
		t.Fatalf("the claim ran in %d unsynced transactions, want 1", n)
	}
	if first, last, err := db.ClaimRecent(ctx, "u", inbox.ID); err != nil || first != 0 || last != 0 {
		t.Fatalf("ClaimRecent again = %d:%d, %v", first, last, err)
	}
	// synchronous is per connection: the writer's is FULL (2) again.
	var sync int
	if err := db.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("writer's synchronous after a lazy write = %d, %v; want 2 (FULL)", sync, err)
	}
	if uid := insertOne(t, db, "u", inbox.ID); uid != 2 {
		t.Fatalf("insert after the claim: UID %d", uid)
	}
}

// TestSetFlagsNoChangeReadsOnly checks that a SetFlags that changes
// nothing (the flags are already so, or every message changed after
// UNCHANGEDSINCE) answers from a read, without a write transaction.
func TestSetFlagsNoChangeReadsOnly(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	uid := insertOne(t, db, "u", inbox.ID)
	changed, err := db.SetFlags(ctx, "u", inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagSeen})
	if err != nil || len(changed) != 1 {
		t.Fatalf("first SetFlags: %+v, %v", changed, err)
	}
	modSeq := changed[0].ModSeq
	txns := db.txns.Load()
	if changed, err := db.SetFlags(ctx, "u", inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagSeen}); err != nil || len(changed) != 0 {
		t.Fatalf("SetFlags of a flag the message has: %+v, %v", changed, err)
	}
	if changed, err := db.SetFlags(ctx, "u", inbox.ID, []uint32{uid}, store.FlagsRemove, []string{store.FlagFlagged}); err != nil || len(changed) != 0 {
		t.Fatalf("SetFlags removing a flag the message lacks: %+v, %v", changed, err)
	}
	changed, failed, err := db.SetFlagsUnchangedSince(ctx, "u", inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagFlagged}, modSeq-1)
	if err != nil || len(changed) != 0 || len(failed) != 1 || failed[0] != uid {
		t.Fatalf("SetFlagsUnchangedSince before the last change: %+v, failed %v, %v", changed, failed, err)
	}
	if n := db.txns.Load() - txns; n != 0 {
		t.Fatalf("SetFlags that changed nothing began %d write transactions", n)
	}
	if _, err := db.SetFlags(ctx, "u", "no-such-mailbox", []uint32{uid}, store.FlagsAdd, []string{store.FlagSeen}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetFlags of an unknown mailbox: %v", err)
	}
	// A change still writes, with a new mod-sequence.
	changed, err = db.SetFlags(ctx, "u", inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagFlagged})
	if err != nil || len(changed) != 1 || changed[0].ModSeq <= modSeq {
		t.Fatalf("SetFlags adding a flag: %+v, %v", changed, err)
	}
	mb, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil || mb.HighestModSeq != changed[0].ModSeq || mb.Unseen != 0 {
		t.Fatalf("mailbox after the change: %+v, %v", mb, err)
	}
}
