package redis

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

func newTestUser(t *testing.T, db *DB, local string) (store.User, store.Mailbox) {
	t.Helper()
	ctx := context.Background()
	if ok, _ := db.HasDomain(ctx, "example.org"); !ok {
		if err := db.AddDomain(ctx, "example.org"); err != nil {
			t.Fatal(err)
		}
	}
	u, err := db.AddUser(ctx, local+"@example.org", "h")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return u, inbox
}

// TestRestart checks that a DB survives a restart of Redis: the scripts
// are loaded again (NOSCRIPT), and a Watch made before the restart wakes up
// (its pub/sub connection is re-established) and then sees changes made
// by another process.
func TestRestart(t *testing.T) {
	srv := servers.Redis(t)
	a, b := openURL(t, srv.URL(), true), openURL(t, srv.URL(), false)
	ctx := context.Background()
	u, inbox := newTestUser(t, a, "a")
	ch := a.Watch(ctx, u.ID)
	uid, _, err := b.InsertMessage(ctx, u.ID, inbox.ID, "", store.NewMessage{BlobKey: "msg/R", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "insert before restart")

	srv.Restart()
	waitFor(t, ch, "re-subscription after restart")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = b.SetFlags(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagDeleted})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the pool redials after the restart
	}
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "flags after restart")
	if _, err := b.Expunge(ctx, u.ID, inbox.ID, nil); err != nil { // unref's EVALSHA pipeline meets NOSCRIPT
		t.Fatal(err)
	}
	if due := scheduled(t, b); !slices.Equal(due, []string{"msg/R"}) {
		t.Fatalf("scheduled deletes after restart = %q", due)
	}
}

// scheduled returns every key on db's delete schedule.
func scheduled(t *testing.T, db *DB) []string {
	t.Helper()
	due, err := db.DueBlobDeletes(context.Background(), time.Now().Add(1000*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	return due
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no signal", what)
	}
}

// TestDuplicateKeepsRefCount checks that a duplicate delivery gives back
// the reference it took: the last expunge still schedules the object.
func TestDuplicateKeepsRefCount(t *testing.T) {
	db := openURL(t, servers.Redis(t).URL(), true)
	ctx := context.Background()
	u, inbox := newTestUser(t, db, "a")
	m := store.NewMessage{BlobKey: "msg/D", Size: 1, Flags: []string{store.FlagDeleted}}
	for range 3 {
		if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, "Q/"+u.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.InsertMessage(ctx, u.ID, "0000000000000000", "", m); err == nil {
		t.Fatal("insert into a missing mailbox succeeded")
	}
	if n, _ := db.Client().Get(ctx, refKey(m.BlobKey)).Int(); n != 1 {
		t.Fatalf("refcount = %d after one insert, two duplicates and one failure; want 1", n)
	}
	if _, err := db.Expunge(ctx, u.ID, inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	if due := scheduled(t, db); !slices.Equal(due, []string{m.BlobKey}) {
		t.Fatalf("scheduled deletes after expunge = %q", due)
	}
	if n, err := db.Client().Exists(ctx, refKey(m.BlobKey)).Result(); err != nil || n != 0 {
		t.Fatalf("refcount key left behind: %d, %v", n, err)
	}
}

// TestCloseEndsWatches checks that Close closes every Watch channel and
// leaves no goroutine behind.
func TestCloseEndsWatches(t *testing.T) {
	srv := servers.Redis(t)
	before := runtime.NumGoroutine()
	db, err := Open(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	var chans []<-chan struct{}
	for _, id := range []string{"u1", "u2", "u2"} {
		chans = append(chans, db.Watch(context.Background(), id))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for i, ch := range chans {
		for range ch { // drain a pending value; ends when closed
		}
		_ = i
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
