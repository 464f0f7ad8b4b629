package snapshot_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/snapshot"
	"github.com/bucketmail/bucketmail/internal/store"
)

func (e *env) snapshotter(holder string, keep int) *snapshot.Snapshotter {
	return snapshot.New(snapshot.Config{Store: e.db, Blobs: e.blobs, Holder: holder, Keep: keep})
}

func (e *env) snap(s *snapshot.Snapshotter) snapshot.Result {
	e.t.Helper()
	res, err := s.Once(e.ctx)
	must(e.t, err)
	if !res.Leased {
		e.t.Fatal("snapshotter did not get the lease")
	}
	return res
}

// TestSnapshotterWritesChanges: a pass writes the users that changed and
// the directory if it changed, and keeps the newest few.
func TestSnapshotterWritesChanges(t *testing.T) {
	e := newEnv(t)
	alice := e.addUser("alice@example.org")
	bob := e.addUser("bob@example.org")
	e.deliver("one", "alice@example.org")
	s := e.snapshotter("w1", 2)

	if res := e.snap(s); res.Users != 1 || !res.Directory {
		t.Fatalf("first pass = %+v, want alice (bob has no mailboxes yet) and the directory", res)
	}
	if other, err := e.snapshotter("w2", 2).Once(e.ctx); err != nil || other.Leased {
		t.Fatalf("a second holder's pass = %+v, %v; want no lease", other, err)
	}
	if res := e.snap(s); res.Users != 0 || res.Directory {
		t.Fatalf("pass without changes = %+v", res)
	}
	for i := range 3 {
		e.deliver("more", "alice@example.org")
		if res := e.snap(s); res.Users != 1 || res.Directory {
			t.Fatalf("pass %d after a delivery = %+v", i, res)
		}
	}
	keys := e.keys(snapshot.UserPrefix(alice.ID))
	seq, err := e.db.ChangeSeq(e.ctx, alice.ID)
	must(t, err)
	if len(keys) != 2 || keys[1] != snapshot.UserKey(alice.ID, seq) {
		t.Fatalf("alice's snapshots = %q, want 2, the newest at seq %d", keys, seq)
	}
	if got := e.keys(snapshot.UserPrefix(bob.ID)); len(got) != 0 {
		t.Fatalf("bob's snapshots = %q", got)
	}
	must(t, e.db.AddAlias(e.ctx, "team@example.org", []string{"alice@example.org"}))
	if res := e.snap(s); !res.Directory || res.Users != 0 {
		t.Fatalf("pass after an alias change = %+v", res)
	}
	if got := e.keys(snapshot.DirectoryDir); len(got) != 2 {
		t.Fatalf("directory snapshots = %q", got)
	}
}

// TestReindexAfterLoss: the index store loses everything; reindex brings
// back every message exactly once, with the flags of the snapshot and new
// UIDVALIDITYs, and messages newer than the snapshot are delivered again.
func TestReindexAfterLoss(t *testing.T) {
	e := newEnv(t)
	alice := e.addUser("alice@example.org")
	bob := e.addUser("bob@example.org")
	m1 := e.deliver("one", "alice@example.org")
	m2 := e.deliver("two", "alice@example.org", "bob@example.org")
	sent1 := e.appendMessage(alice, "Sent", "sent before", store.FlagSeen)
	inbox, before := e.mailbox(alice, store.Inbox)
	_, err := e.db.SetFlags(e.ctx, alice.ID, inbox.ID, []uint32{before[0].UID}, store.FlagsAdd,
		[]string{store.FlagSeen, store.FlagFlagged})
	must(t, err)
	_, before = e.mailbox(alice, store.Inbox)
	e.snap(e.snapshotter("w1", 3))

	// After the snapshot: a delivery, an APPEND and a flag change.
	m3 := e.deliver("three", "alice@example.org")
	sent2 := e.appendMessage(alice, "Sent", "sent after")
	_, err = e.db.SetFlags(e.ctx, alice.ID, inbox.ID, []uint32{before[1].UID}, store.FlagsAdd, []string{store.FlagSeen})
	must(t, err)

	e.openIndex("empty.db") // the index store lost everything
	// Snapshots of the empty index would become the newest: refused.
	idx := e.keys("idx/")
	if res, err := e.snapshotter("w2", 3).Once(e.ctx); !errors.Is(err, reconcile.ErrIndexLost) || res.Users+res.Deleted != 0 || res.Directory {
		t.Fatalf("snapshot pass on the empty index = %+v, %v; want ErrIndexLost", res, err)
	}
	if after := e.keys("idx/"); !slices.Equal(after, idx) {
		t.Fatalf("snapshots changed on the empty index: %q, were %q", after, idx)
	}
	rep, err := snapshot.Reindex(e.ctx, e.db, e.blobs, "", nil)
	must(t, err)
	want := snapshot.Report{Directory: rep.Directory, Users: 2, UsersFromSnapshot: 2, Mailboxes: 12, Messages: 4,
		Objects: 5, InIndex: 3, Enqueued: 1, Appended: 1}
	if rep != want || !strings.HasPrefix(rep.Directory, snapshot.DirectoryDir) {
		t.Fatalf("report = %+v\nwant     %+v", rep, want)
	}
	e.waitDrained()
	check := func() {
		t.Helper()
		mb, got := e.mailbox(alice, store.Inbox)
		if mb.UIDValidity <= inbox.UIDValidity {
			t.Errorf("INBOX UIDVALIDITY %d, was %d", mb.UIDValidity, inbox.UIDValidity)
		}
		var keys []string
		for _, m := range got {
			keys = append(keys, m.BlobKey)
		}
		if !slices.Equal(keys, []string{m1.BlobKey, m2.BlobKey, m3.BlobKey}) {
			t.Fatalf("alice's INBOX = %q", keys)
		}
		for i := range before {
			if got[i].UID != before[i].UID || !slices.Equal(got[i].Flags, before[i].Flags) {
				t.Errorf("message %d = uid %d flags %q; snapshot had uid %d flags %q",
					i, got[i].UID, got[i].Flags, before[i].UID, before[i].Flags)
			}
		}
		if got[2].UID <= before[1].UID {
			t.Errorf("re-delivered message got UID %d", got[2].UID)
		}
		_, sent := e.mailbox(alice, "Sent")
		if len(sent) != 2 || sent[0].BlobKey != sent1 || sent[1].BlobKey != sent2 ||
			!slices.Equal(sent[0].Flags, []string{store.FlagSeen}) {
			t.Fatalf("alice's Sent = %+v", sent)
		}
		_, bobs := e.mailbox(bob, store.Inbox)
		if len(bobs) != 1 || bobs[0].BlobKey != m2.BlobKey {
			t.Fatalf("bob's INBOX = %+v", bobs)
		}
		if u, err := e.db.UserByAddress(e.ctx, "alice@example.org"); err != nil || u.ID != alice.ID || u.PasswordHash != alice.PasswordHash {
			t.Fatalf("alice after reindex = %+v, %v", u, err)
		}
	}
	check()
	if res := e.snap(e.snapshotter("w2", 3)); res.Users != 2 || !res.Directory {
		t.Fatalf("snapshot pass after reindex = %+v, want both users and the directory", res)
	}

	// Reindexing again, or one user, is safe: still one copy each.
	for _, who := range []string{"", "alice@example.org"} {
		_, err := snapshot.Reindex(e.ctx, e.db, e.blobs, who, nil)
		must(t, err)
		e.waitDrained()
		check()
	}
	if _, err := snapshot.Reindex(e.ctx, e.db, e.blobs, "nobody@example.org", nil); err == nil {
		t.Fatal("reindex of an unknown user succeeded")
	}
}

// TestReindexWithoutSnapshots: with no snapshot at all, reindex rebuilds
// from the message objects alone.
func TestReindexWithoutSnapshots(t *testing.T) {
	e := newEnv(t)
	alice := e.addUser("alice@example.org")
	m1 := e.deliver("one", "alice@example.org")
	e.openIndex("empty.db")
	e.addUser("alice@example.org") // recreated by the operator, with a new ID
	rep, err := snapshot.Reindex(e.ctx, e.db, e.blobs, "alice@example.org", nil)
	must(t, err)
	if rep.Users != 1 || rep.UsersFromSnapshot != 0 || rep.Enqueued != 1 || rep.Directory != "" {
		t.Fatalf("report = %+v", rep)
	}
	e.waitDrained()
	u, err := e.db.UserByAddress(e.ctx, "alice@example.org")
	must(t, err)
	_, got := e.mailbox(u, store.Inbox)
	if len(got) != 1 || got[0].BlobKey != m1.BlobKey || u.ID == alice.ID {
		t.Fatalf("INBOX = %+v", got)
	}
}

// TestSnapshotterPacesLargeUsers: a user with thousands of messages is
// snapshotted again only after one Interval per thousand messages, also
// after a restart; a small one at every pass after a change.
func TestSnapshotterPacesLargeUsers(t *testing.T) {
	e := newEnv(t)
	big := e.addUser("big@example.org")
	small := e.addUser("small@example.org")
	must(t, e.db.EnsureUser(e.ctx, big.ID))
	inbox, err := e.db.Mailbox(e.ctx, big.ID, "INBOX")
	must(t, err)
	for i := range 3000 {
		_, _, err := e.db.InsertMessage(e.ctx, big.ID, inbox.ID, "", store.NewMessage{
			BlobKey: fmt.Sprintf("msg/big%05d", i), Size: 10, InternalDate: time.Now(), Summary: []byte("{}")})
		must(t, err)
	}
	e.appendMessage(small, "INBOX", "first")
	clock := time.Now()
	now := func() time.Time { return clock }
	s := snapshot.New(snapshot.Config{Store: e.db, Blobs: e.blobs, Holder: "w1", Interval: time.Minute})
	s.SetClock(now)
	if res := e.snap(s); res.Users != 2 {
		t.Fatalf("first pass = %+v, want both users", res)
	}
	e.appendMessage(big, "INBOX", "more")
	e.appendMessage(small, "INBOX", "more")
	if res := e.snap(s); res.Users != 1 {
		t.Fatalf("pass right after = %+v, want the small user only", res)
	}
	// A restarted process (a new snapshotter) keeps the pace: it is in
	// the checkpoint, not in memory.
	s = snapshot.New(snapshot.Config{Store: e.db, Blobs: e.blobs, Holder: "w1", Interval: time.Minute})
	clock = clock.Add(2 * time.Minute) // 3,000 messages: 3 minutes
	s.SetClock(now)
	if res := e.snap(s); res.Users != 0 {
		t.Fatalf("pass 2 minutes on, after a restart = %+v, want none", res)
	}
	clock = clock.Add(time.Minute)
	if res := e.snap(s); res.Users != 1 {
		t.Fatalf("pass 3 minutes on = %+v, want the large user", res)
	}
	keys := e.keys(snapshot.UserPrefix(big.ID))
	seq, err := e.db.ChangeSeq(e.ctx, big.ID)
	must(t, err)
	if len(keys) != 2 || keys[1] != snapshot.UserKey(big.ID, seq) {
		t.Fatalf("large user's snapshots = %q, want the newest at seq %d", keys, seq)
	}
}
