package sqlite

import (
	"context"
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
