package storetest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// RunSnapshots runs the conformance tests of store.Snapshots; open returns
// a new, empty store for each call and closes it in t.Cleanup.
func RunSnapshots(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("ChangeSeq", func(t *testing.T) { testChangeSeq(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testSnapshotRoundTrip(t, open(t), open(t)) })
	t.Run("ReplaceInPlace", func(t *testing.T) { testSnapshotReplace(t, open(t)) })
	t.Run("Directory", func(t *testing.T) { testDirectorySnapshot(t, open(t), open(t)) })
}

func changeSeq(t *testing.T, s store.Store, userID string) uint64 {
	t.Helper()
	n, err := s.ChangeSeq(ctxFor(t), userID)
	must(t, err)
	return n
}

func testChangeSeq(t *testing.T, s store.Store) {
	if n := changeSeq(t, s, "nobody"); n != 0 {
		t.Fatalf("change seq of a user without data = %d", n)
	}
	u := newUser(t, s, "seq")
	s0 := changeSeq(t, s, u.ID)
	inbox := mailbox(t, s, u, store.Inbox)
	if s1 := changeSeq(t, s, u.ID); s1 != s0 || s0 == 0 {
		t.Fatalf("change seq %d after EnsureUser, %d after a read", s0, s1)
	}
	uid := insert(t, s, u, inbox, msg(5))
	s2 := changeSeq(t, s, u.ID)
	if s2 <= s0 {
		t.Fatalf("change seq %d after insert, was %d", s2, s0)
	}
	_, err := s.SetFlags(ctxFor(t), u.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagSeen})
	must(t, err)
	s3 := changeSeq(t, s, u.ID)
	if s3 <= s2 {
		t.Fatalf("change seq %d after a flag change, was %d", s3, s2)
	}
	other := newUser(t, s, "other")
	insert(t, s, other, mailbox(t, s, other, store.Inbox), msg(5))
	if s4 := changeSeq(t, s, u.ID); s4 != s3 {
		t.Fatalf("change seq moved from %d to %d with another user's change", s3, s4)
	}
}

// fixture is a user with messages in several mailboxes: flags, a copy, an
// idempotency key, a nested subscribed mailbox.
type fixture struct {
	user            store.User
	delivered, copy store.NewMessage
	idemKey         string
	deliveredUID    uint32
}

func makeFixture(t *testing.T, s store.Store) fixture {
	ctx := ctxFor(t)
	f := fixture{user: newUser(t, s, "snap"), idemKey: "01J0000000000000000000SNAP/x"}
	must(t, s.CreateMailbox(ctx, f.user.ID, "Work/Projects", ""))
	must(t, s.SetSubscribed(ctx, f.user.ID, "Work/Projects", true))
	// A subscription that outlived its mailbox.
	must(t, s.CreateMailbox(ctx, f.user.ID, "Gone", ""))
	must(t, s.SetSubscribed(ctx, f.user.ID, "Gone", true))
	must(t, s.DeleteMailbox(ctx, f.user.ID, "Gone"))
	inbox, work := mailbox(t, s, f.user, store.Inbox), mailbox(t, s, f.user, "Work/Projects")
	insert(t, s, f.user, inbox, msg(11))
	f.delivered = msg(22)
	uid, _, err := s.InsertMessage(ctx, f.user.ID, inbox.ID, f.idemKey, f.delivered)
	must(t, err)
	f.deliveredUID = uid
	f.copy = msg(33, store.FlagSeen, "$Label1")
	cuid := insert(t, s, f.user, inbox, f.copy)
	_, _, err = s.CopyMessages(ctx, f.user.ID, inbox.ID, []uint32{cuid}, work.ID)
	must(t, err)
	_, err = s.SetFlags(ctx, f.user.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagFlagged})
	must(t, err)
	// A moved message (its EMAILID from another mailbox) and one with
	// \Deleted (STATUS DELETED).
	muid := insert(t, s, f.user, inbox, msg(44, store.FlagDeleted, "Moved"))
	_, _, err = s.MoveMessages(ctx, f.user.ID, inbox.ID, []uint32{muid}, work.ID)
	must(t, err)
	insert(t, s, f.user, inbox, msg(55, store.FlagDeleted))
	return f
}

// index is a user's index as the interfaces show it, mailbox IDs and
// UIDVALIDITY left out.
type index map[string]struct {
	mb   store.Mailbox
	msgs []store.Message
}

func readIndex(t *testing.T, s store.Store, userID string) index {
	t.Helper()
	ctx := ctxFor(t)
	mbs, err := s.ListMailboxes(ctx, userID)
	must(t, err)
	out := index{}
	for _, mb := range mbs {
		msgs, err := s.Messages(ctx, userID, mb.ID, 1, 0, 0)
		must(t, err)
		out[mb.Name] = struct {
			mb   store.Mailbox
			msgs []store.Message
		}{mb, msgs}
	}
	return out
}

// sameIndex fails unless got has the mailboxes, UIDs, flags and contents of
// want, every UIDVALIDITY greater than want's.
func sameIndex(t *testing.T, got, want index) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d mailboxes, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Fatalf("mailbox %q missing", name)
		}
		if g.mb.UIDValidity <= w.mb.UIDValidity {
			t.Errorf("%s: UIDVALIDITY %d, want > %d", name, g.mb.UIDValidity, w.mb.UIDValidity)
		}
		if g.mb.UIDNext < w.mb.UIDNext || g.mb.HighestModSeq < w.mb.HighestModSeq || g.mb.Messages != w.mb.Messages ||
			g.mb.Unseen != w.mb.Unseen || g.mb.Size != w.mb.Size || g.mb.Subscribed != w.mb.Subscribed ||
			g.mb.SpecialUse != w.mb.SpecialUse || g.mb.Deleted != w.mb.Deleted || !sameSet(g.mb.Keywords, w.mb.Keywords) {
			t.Errorf("%s: status %+v, want like %+v", name, g.mb, w.mb)
		}
		if len(g.msgs) != len(w.msgs) {
			t.Fatalf("%s: %d messages, want %d", name, len(g.msgs), len(w.msgs))
		}
		for i, wm := range w.msgs {
			gm := g.msgs[i]
			if gm.UID != wm.UID || gm.BlobKey != wm.BlobKey || string(gm.Prefix) != string(wm.Prefix) ||
				gm.Size != wm.Size || !gm.InternalDate.Equal(wm.InternalDate) || !sameSet(gm.Flags, wm.Flags) ||
				string(gm.Summary) != string(wm.Summary) || !gm.SaveDate.Equal(wm.SaveDate) || gm.EmailID != wm.EmailID {
				t.Errorf("%s: message %d = %+v, want %+v", name, i, gm, wm)
			}
		}
	}
}

// exportJSON exports userID and sends the snapshot through JSON, as the
// snapshotter stores it.
func exportJSON(t *testing.T, s store.Store, userID string) *store.UserSnapshot {
	t.Helper()
	snap, err := s.ExportUser(ctxFor(t), userID)
	must(t, err)
	b, err := json.Marshal(snap)
	must(t, err)
	var out store.UserSnapshot
	must(t, json.Unmarshal(b, &out))
	return &out
}

// testSnapshotRoundTrip exports a user from src and imports it into dst,
// an empty store (the index store lost everything).
func testSnapshotRoundTrip(t *testing.T, src, dst store.Store) {
	ctx := ctxFor(t)
	f := makeFixture(t, src)
	want := readIndex(t, src, f.user.ID)
	snap := exportJSON(t, src, f.user.ID)
	if snap.Version != store.SnapshotVersion || snap.UserID != f.user.ID || snap.ChangeSeq != changeSeq(t, src, f.user.ID) {
		t.Fatalf("snapshot header = v%d %q seq %d", snap.Version, snap.UserID, snap.ChangeSeq)
	}
	dir, err := src.ExportDirectory(ctx)
	must(t, err)
	must(t, dst.ImportDirectory(ctx, dir))
	must(t, dst.ImportUser(ctx, snap))
	sameIndex(t, readIndex(t, dst, f.user.ID), want)
	wantSubs(t, dst, f.user, wantSubsOf(t, src, f.user)...)
	// The change counter continues after the snapshot's, so that the next
	// snapshot sorts after it.
	if n := changeSeq(t, dst, f.user.ID); n <= snap.ChangeSeq {
		t.Fatalf("change seq %d after import of a snapshot at %d", n, snap.ChangeSeq)
	}

	// The idempotency key came along: delivering the same job again is a
	// duplicate with the old UID.
	inbox := mailbox(t, dst, f.user, store.Inbox)
	uid, dup, err := dst.InsertMessage(ctx, f.user.ID, inbox.ID, f.idemKey, f.delivered)
	must(t, err)
	if !dup || uid != f.deliveredUID {
		t.Fatalf("insert with a restored key = uid %d dup %v, want %d true", uid, dup, f.deliveredUID)
	}
	for key, want := range map[string]int64{f.delivered.BlobKey: 1, f.copy.BlobKey: 2} {
		if n, err := dst.BlobRefs(ctx, key); err != nil || n != want {
			t.Fatalf("refs of %s after import = %d, %v; want %d", key, n, err, want)
		}
	}
	// New UIDs continue after the restored ones.
	next := insert(t, dst, f.user, inbox, msg(1))
	if next <= f.deliveredUID || next < want[store.Inbox].mb.UIDNext {
		t.Fatalf("UID after import = %d", next)
	}
}

// testSnapshotReplace imports a snapshot over the index it was taken from,
// after more changes: the later changes go, references follow.
func testSnapshotReplace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	f := makeFixture(t, s)
	want := readIndex(t, s, f.user.ID)
	subs := wantSubsOf(t, s, f.user)
	snap := exportJSON(t, s, f.user.ID)

	must(t, s.SetSubscribed(ctx, f.user.ID, "Gone", false))
	inbox := mailbox(t, s, f.user, store.Inbox)
	late := msg(44)
	insert(t, s, f.user, inbox, late)
	must(t, s.CreateMailbox(ctx, f.user.ID, "Later", ""))
	seq := changeSeq(t, s, f.user.ID)
	watch := s.Watch(ctx, f.user.ID)
	drain(watch)

	must(t, s.ImportUser(ctx, snap))
	sameIndex(t, readIndex(t, s, f.user.ID), want)
	wantSubs(t, s, f.user, subs...)
	if n := changeSeq(t, s, f.user.ID); n <= seq {
		t.Fatalf("change seq %d after import, was %d", n, seq)
	}
	waitSignal(t, watch, "import")
	for key, want := range map[string]int64{late.BlobKey: 0, f.delivered.BlobKey: 1, f.copy.BlobKey: 2} {
		if n, err := s.BlobRefs(ctx, key); err != nil || n != want {
			t.Fatalf("refs of %s after import = %d, %v; want %d", key, n, err, want)
		}
	}
	// The entry newer than the snapshot lost its last reference, but its
	// object is not scheduled: reindex is about to deliver it again.
	wantUnscheduled(t, s, late.BlobKey, "replaced by ImportUser")
	// A second import raises UIDVALIDITY again.
	before := mailbox(t, s, f.user, store.Inbox).UIDValidity
	must(t, s.ImportUser(ctx, snap))
	if after := mailbox(t, s, f.user, store.Inbox).UIDValidity; after <= before {
		t.Fatalf("UIDVALIDITY %d after a second import, was %d", after, before)
	}
}

func testDirectorySnapshot(t *testing.T, src, dst store.Store) {
	ctx := ctxFor(t)
	a := newUser(t, src, "alice")
	must(t, src.AddDomain(ctx, "example.net"))
	must(t, src.AddAlias(ctx, "team@example.org", []string{"alice@example.org", "x@remote.example"}))
	must(t, src.AddAlias(ctx, "@example.net", []string{"alice@example.org"}))
	must(t, src.SetQuota(ctx, "alice@example.org", 12345)) // quotas travel with the directory
	snap, err := src.ExportDirectory(ctx)
	must(t, err)
	if snap.Version != store.SnapshotVersion || !slices.Equal(snap.Domains, []string{"example.net", "example.org"}) ||
		len(snap.Users) != 1 || snap.Users[0].ID != a.ID || len(snap.Aliases) != 2 {
		t.Fatalf("directory snapshot = %+v", snap)
	}
	b, err := json.Marshal(snap)
	must(t, err)
	var back store.DirectorySnapshot
	must(t, json.Unmarshal(b, &back))

	// dst already has a user of its own; import adds, never removes.
	keep := newUser(t, dst, "kept")
	must(t, dst.ImportDirectory(ctx, &back))
	must(t, dst.ImportDirectory(ctx, &back)) // idempotent
	got, err := dst.UserByAddress(ctx, "alice@example.org")
	must(t, err)
	if got.ID != a.ID || got.PasswordHash != a.PasswordHash || !got.Created.Equal(a.Created) || got.Quota != 12345 {
		t.Fatalf("imported user = %+v, want %+v with Quota 12345", got, a)
	}
	if _, err := dst.UserByID(ctx, keep.ID); err != nil {
		t.Fatalf("existing user lost: %v", err)
	}
	domains, err := dst.Domains(ctx)
	must(t, err)
	if !slices.Equal(domains, []string{"example.net", "example.org"}) {
		t.Fatalf("domains = %q", domains)
	}
	aliases, err := dst.Aliases(ctx)
	must(t, err)
	if !sameSet(aliases["team@example.org"], []string{"alice@example.org", "x@remote.example"}) ||
		!sameSet(aliases["@example.net"], []string{"alice@example.org"}) {
		t.Fatalf("aliases = %v", aliases)
	}
}

// wantSubsOf returns u's subscriptions, checking that they include the
// fixture's subscription without a mailbox.
func wantSubsOf(t *testing.T, s store.Store, u store.User) []string {
	t.Helper()
	subs, err := s.Subscriptions(ctxFor(t), u.ID)
	must(t, err)
	if !slices.Contains(subs, "Gone") {
		t.Fatalf("fixture subscriptions %q lack Gone", subs)
	}
	return subs
}
