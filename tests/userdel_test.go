package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// openStorage opens the server's store and blobs from the test process, as
// a second process would (SQLite is multi-process).
func openStorage(t *testing.T, dataDir string) (store.Store, blob.Store) {
	t.Helper()
	e := testenv.OpenDataDir(t, dataDir)
	return e.Store, e.Blobs
}

// blobKeys returns the object keys of every message of user.
func blobKeys(t *testing.T, st store.Store, address string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	u, err := st.UserByAddress(ctx, address)
	if err != nil {
		t.Fatal(err)
	}
	mbs, err := st.ListMailboxes(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, mb := range mbs {
		msgs, err := st.Messages(ctx, u.ID, mb.ID, 1, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			keys[m.BlobKey] = true
		}
	}
	return keys
}

// testUserDel deletes bob while the server runs: his mailboxes go, objects
// only he referenced are handed to the collector, objects shared with
// alice stay.
func testUserDel(t *testing.T, w *world) {
	ctx := context.Background()
	st, bl := openStorage(t, w.dataDir)
	bobKeys := blobKeys(t, st, bob)
	aliceKeys := blobKeys(t, st, alice)
	if len(bobKeys) == 0 {
		t.Fatal("bob has no messages to purge")
	}
	mustAdmin(t, w.dataDir, "", "user", "del", bob)

	// Objects only bob referenced go to the collector, which deletes them
	// after --gc-delay (internal/reconcile).
	due, err := st.DueBlobDeletes(ctx, time.Now().Add(24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	scheduled := map[string]bool{}
	for _, k := range due {
		scheduled[k] = true
	}
	for key := range bobKeys {
		_, err := bl.Stat(ctx, key)
		switch {
		case aliceKeys[key] && (err != nil || scheduled[key]):
			t.Errorf("object %s shared with alice: Stat = %v, scheduled for deletion %v", key, err, scheduled[key])
		case !aliceKeys[key] && !scheduled[key] && !errors.Is(err, blob.ErrNotFound):
			t.Errorf("object %s only bob referenced: neither deleted nor scheduled for deletion (Stat = %v)", key, err)
		}
	}
	if _, err := tryPOP3(t, w.srv.addr("pop3"), bob, w.bobPass); err == nil {
		t.Error("deleted user can still log in")
	}
	r := admin(t, w.dataDir, "", "user", "del", bob)
	if r.code != 1 || r.stderr != "bucketmail: user: del: user "+bob+" does not exist\n" {
		t.Errorf("deleting a deleted user: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(mustAdmin(t, w.dataDir, "", "user", "list"), alice) {
		t.Error("alice vanished with bob")
	}
}
