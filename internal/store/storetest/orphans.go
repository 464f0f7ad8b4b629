package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// testOrphans checks the rule of store.Mailboxes: the call that drops an
// object's last index reference schedules its deletion at the time of the
// call, and no call schedules an object something still references.
func testOrphans(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("ExpungeLast", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox, arch := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
		m := msg(10, store.FlagDeleted)
		uid := insert(t, s, u, inbox, m)
		_, copied, err := s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{uid}, arch.ID)
		must(t, err)
		_, err = s.Expunge(ctx, u.ID, inbox.ID, nil)
		must(t, err)
		wantUnscheduled(t, s, m.BlobKey, "expunged while a copy remains")
		trash := mailbox(t, s, u, "Trash")
		_, moved, err := s.MoveMessages(ctx, u.ID, arch.ID, copied, trash.ID)
		must(t, err)
		wantUnscheduled(t, s, m.BlobKey, "moved")
		from := time.Now()
		exp, err := s.Expunge(ctx, u.ID, trash.ID, moved)
		must(t, err)
		if !slices.Equal(exp, moved) {
			t.Fatalf("expunged %v, want %v", exp, moved)
		}
		wantScheduled(t, s, m.BlobKey, from, time.Now(), "last reference expunged")
	})

	t.Run("SharedByUsers", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		a, b := newUser(t, s, "a"), newUser(t, s, "b")
		ia, ib := mailbox(t, s, a, store.Inbox), mailbox(t, s, b, store.Inbox)
		m := msg(10, store.FlagDeleted)
		insert(t, s, a, ia, m)
		insert(t, s, b, ib, m)
		_, err := s.Expunge(ctx, a.ID, ia.ID, nil)
		must(t, err)
		wantUnscheduled(t, s, m.BlobKey, "expunged by a while b holds it")
		from := time.Now()
		_, err = s.Expunge(ctx, b.ID, ib.ID, nil)
		must(t, err)
		wantScheduled(t, s, m.BlobKey, from, time.Now(), "expunged by b, the last holder")
	})

	t.Run("NothingExpunged", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, store.Inbox)
		m := msg(10) // not \Deleted
		uid := insert(t, s, u, inbox, m)
		exp, err := s.Expunge(ctx, u.ID, inbox.ID, []uint32{uid})
		must(t, err)
		if len(exp) != 0 {
			t.Fatalf("expunged %v without \\Deleted", exp)
		}
		wantUnscheduled(t, s, m.BlobKey, "not expunged")
	})

	t.Run("DeleteMailbox", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "P", ""))
		p, inbox := mailbox(t, s, u, "P"), mailbox(t, s, u, store.Inbox)
		own, shared := msg(10), msg(10)
		insert(t, s, u, p, own)
		insert(t, s, u, p, own) // two references, both dropped
		insert(t, s, u, p, shared)
		insert(t, s, u, inbox, shared)
		from := time.Now()
		must(t, s.DeleteMailbox(ctx, u.ID, "P"))
		wantScheduled(t, s, own.BlobKey, from, time.Now(), "only in the deleted mailbox")
		wantUnscheduled(t, s, shared.BlobKey, "still in INBOX")
	})

	t.Run("PurgeUser", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		a, b := newUser(t, s, "a"), newUser(t, s, "b")
		own, shared := msg(10), msg(10)
		insert(t, s, a, mailbox(t, s, a, "Sent"), own)
		insert(t, s, a, mailbox(t, s, a, store.Inbox), shared)
		insert(t, s, b, mailbox(t, s, b, store.Inbox), shared)
		from := time.Now()
		must(t, s.PurgeUser(ctx, a.ID))
		wantScheduled(t, s, own.BlobKey, from, time.Now(), "only the purged user's")
		wantUnscheduled(t, s, shared.BlobKey, "b still holds it")
		from = time.Now()
		must(t, s.PurgeUser(ctx, b.ID))
		wantScheduled(t, s, shared.BlobKey, from, time.Now(), "the last holder purged")
	})

	t.Run("ReleaseBlob", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, store.Inbox)
		held, never := msg(10, store.FlagDeleted), msg(10)
		insert(t, s, u, inbox, held)
		must(t, s.ReleaseBlob(ctx, held.BlobKey))
		wantUnscheduled(t, s, held.BlobKey, "released while an entry holds it")
		from := time.Now()
		must(t, s.ReleaseBlob(ctx, never.BlobKey))
		wantScheduled(t, s, never.BlobKey, from, time.Now(), "released, never referenced")
		from = time.Now()
		_, err := s.Expunge(ctx, u.ID, inbox.ID, nil)
		must(t, err)
		wantScheduled(t, s, held.BlobKey, from, time.Now(), "its entry expunged after the release")
	})

	t.Run("LaterTimeKept", func(t *testing.T) {
		// The collector postpones a key by scheduling it later; an
		// expunge of the last reference does not bring it forward.
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, store.Inbox)
		m := msg(10, store.FlagDeleted)
		insert(t, s, u, inbox, m)
		later := time.Now().Add(time.Hour)
		must(t, s.ScheduleBlobDeletes(ctx, []string{m.BlobKey}, later))
		_, err := s.Expunge(ctx, u.ID, inbox.ID, nil)
		must(t, err)
		wantScheduled(t, s, m.BlobKey, later, later, "postponed, then expunged")
	})
}

// wantScheduled fails unless key is on the delete schedule, due at a time
// in [from, to] (to the millisecond).
func wantScheduled(t *testing.T, s store.Store, key string, from, to time.Time, what string) {
	t.Helper()
	if slices.Contains(dueAt(t, s, from.Add(-time.Millisecond)), key) {
		t.Fatalf("%s: %s due before %v", what, key, from)
	}
	if !slices.Contains(dueAt(t, s, to.Add(time.Millisecond)), key) {
		t.Fatalf("%s: %s not scheduled for deletion by %v", what, key, to)
	}
}

// wantUnscheduled fails if key is on the delete schedule, due at any time.
func wantUnscheduled(t *testing.T, s store.Store, key, what string) {
	t.Helper()
	if slices.Contains(dueAt(t, s, time.Now().Add(1000*time.Hour)), key) {
		t.Fatalf("%s: %s scheduled for deletion", what, key)
	}
}

func dueAt(t *testing.T, s store.Store, now time.Time) []string {
	t.Helper()
	keys, err := s.DueBlobDeletes(ctxFor(t), now, 0)
	must(t, err)
	return keys
}
