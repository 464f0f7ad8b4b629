package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

func names(mbs []store.Mailbox) []string {
	out := make([]string, len(mbs))
	for i, mb := range mbs {
		out[i] = mb.Name
	}
	return out
}

func testMailboxes(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Defaults", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		mbs, err := s.ListMailboxes(ctx, u.ID)
		must(t, err)
		if len(mbs) != len(store.DefaultMailboxes) {
			t.Fatalf("ListMailboxes = %q", names(mbs))
		}
		if !slices.IsSorted(names(mbs)) {
			t.Fatalf("ListMailboxes not sorted: %q", names(mbs))
		}
		for _, d := range store.DefaultMailboxes {
			i := slices.IndexFunc(mbs, func(mb store.Mailbox) bool { return mb.Name == d.Name })
			if i < 0 {
				t.Fatalf("default mailbox %s missing", d.Name)
			}
			mb := mbs[i]
			if mb.SpecialUse != d.SpecialUse || mb.ID == "" || mb.UIDValidity == 0 || mb.UIDNext == 0 ||
				mb.Messages != 0 || mb.HighestModSeq == 0 {
				t.Fatalf("default mailbox %+v", mb)
			}
		}
		must(t, s.EnsureUser(ctx, u.ID)) // idempotent
		again, err := s.ListMailboxes(ctx, u.ID)
		must(t, err)
		if !reflect.DeepEqual(mbs, again) {
			t.Fatalf("EnsureUser twice changed mailboxes:\n%+v\n%+v", mbs, again)
		}
		for _, name := range []string{"inbox", "InBoX", "INBOX"} {
			if mb := mailbox(t, s, u, name); mb.Name != store.Inbox || mb.ID != mbs[slices.IndexFunc(mbs, func(m store.Mailbox) bool { return m.Name == store.Inbox })].ID {
				t.Fatalf("Mailbox(%q) = %+v", name, mb)
			}
		}
		_, err = s.Mailbox(ctx, u.ID, "sent") // only INBOX is case-insensitive
		wantErr(t, err, store.ErrNotFound, "Mailbox(sent)")
	})

	t.Run("Create", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "Work/2024/Q1", ""))
		for _, n := range []string{"Work", "Work/2024", "Work/2024/Q1"} {
			mailbox(t, s, u, n)
		}
		wantErr(t, s.CreateMailbox(ctx, u.ID, "Work/2024", ""), store.ErrExists, "create existing parent")
		wantErr(t, s.CreateMailbox(ctx, u.ID, "inbox", ""), store.ErrExists, "create inbox")
		must(t, s.CreateMailbox(ctx, u.ID, "Lists", `\Important`))
		if mb := mailbox(t, s, u, "Lists"); mb.SpecialUse != `\Important` {
			t.Fatalf("special use = %q", mb.SpecialUse)
		}
		must(t, s.CreateMailbox(ctx, u.ID, "inbox/sub", ""))
		if mb := mailbox(t, s, u, "INBOX/sub"); mb.Name != "INBOX/sub" {
			t.Fatalf("inbox/sub stored as %q", mb.Name)
		}
		for _, bad := range []string{"", "/a", "a/", "a//b", "a/../b", "a*", "b%", "a\x01"} {
			wantErr(t, s.CreateMailbox(ctx, u.ID, bad, ""), store.ErrInvalid, "create "+bad)
		}
	})

	t.Run("DeleteAndRecreate", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "P/C", ""))
		p := mailbox(t, s, u, "P")
		m := msg(100)
		insert(t, s, u, p, m)
		from := time.Now()
		must(t, s.DeleteMailbox(ctx, u.ID, "P"))
		wantScheduled(t, s, m.BlobKey, from, time.Now(), "DeleteMailbox")
		_, err := s.Mailbox(ctx, u.ID, "P")
		wantErr(t, err, store.ErrNotFound, "deleted mailbox")
		mailbox(t, s, u, "P/C") // children stay
		wantErr(t, s.DeleteMailbox(ctx, u.ID, "P"), store.ErrNotFound, "delete twice")
		wantErr(t, s.DeleteMailbox(ctx, u.ID, "Inbox"), store.ErrInvalid, "delete INBOX")

		must(t, s.CreateMailbox(ctx, u.ID, "P", ""))
		p2 := mailbox(t, s, u, "P")
		if p2.UIDValidity == p.UIDValidity || p2.ID == p.ID {
			t.Fatalf("re-created mailbox reuses UIDVALIDITY or ID: %+v, %+v", p, p2)
		}
		if p2.Messages != 0 || len(uids(t, s, u, p2)) != 0 {
			t.Fatalf("re-created mailbox has messages: %+v", p2)
		}
		_, err = s.UIDs(ctx, u.ID, p.ID)
		wantErr(t, err, store.ErrNotFound, "UIDs of deleted mailbox ID")
	})

	t.Run("Rename", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "A/B/C", ""))
		must(t, s.CreateMailbox(ctx, u.ID, "AB", "")) // not a child of A
		a := mailbox(t, s, u, "A")
		insert(t, s, u, a, msg(10))
		must(t, s.RenameMailbox(ctx, u.ID, "A", "X/Y"))
		got, err := s.ListMailboxes(ctx, u.ID)
		must(t, err)
		for _, n := range []string{"X", "X/Y", "X/Y/B", "X/Y/B/C", "AB"} {
			if !slices.Contains(names(got), n) {
				t.Fatalf("after rename: %q lacks %s", names(got), n)
			}
		}
		for _, n := range []string{"A", "A/B", "A/B/C"} {
			if slices.Contains(names(got), n) {
				t.Fatalf("after rename: %q still has %s", names(got), n)
			}
		}
		xy := mailbox(t, s, u, "X/Y")
		if xy.ID != a.ID || xy.UIDValidity != a.UIDValidity || xy.Messages != 1 {
			t.Fatalf("renamed mailbox %+v, was %+v", xy, a)
		}
		wantErr(t, s.RenameMailbox(ctx, u.ID, "AB", "X/Y/B"), store.ErrExists, "rename onto existing")
		wantErr(t, s.RenameMailbox(ctx, u.ID, "Nope", "Z"), store.ErrNotFound, "rename missing")
		wantErr(t, s.RenameMailbox(ctx, u.ID, "AB", "bad//name"), store.ErrInvalid, "rename to bad name")
		wantErr(t, s.RenameMailbox(ctx, u.ID, "AB", "INBOX"), store.ErrExists, "rename onto INBOX")
	})

	t.Run("RenameInbox", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "INBOX/keep", ""))
		inbox := mailbox(t, s, u, "INBOX")
		insert(t, s, u, inbox, msg(10))
		last := insert(t, s, u, inbox, msg(20, store.FlagSeen))
		must(t, s.RenameMailbox(ctx, u.ID, "inbox", "Old"))
		old := mailbox(t, s, u, "Old")
		if old.ID == inbox.ID || old.Messages != 2 || old.Size != 30 || old.Unseen != 1 {
			t.Fatalf("renamed INBOX: %+v", old)
		}
		if got := uids(t, s, u, old); len(got) != 2 {
			t.Fatalf("Old UIDs = %v", got)
		}
		inbox2 := mailbox(t, s, u, "INBOX")
		if inbox2.ID != inbox.ID || inbox2.Messages != 0 || inbox2.Size != 0 || len(uids(t, s, u, inbox2)) != 0 {
			t.Fatalf("INBOX after rename: %+v", inbox2)
		}
		mailbox(t, s, u, "INBOX/keep") // inferiors of INBOX are not renamed (RFC 9051 section 6.3.6)
		if uid := insert(t, s, u, inbox2, msg(5)); inbox2.UIDValidity == inbox.UIDValidity && uid <= last {
			t.Fatalf("INBOX reused UID %d (last was %d) under the same UIDVALIDITY", uid, last)
		}
	})

	t.Run("Subscribe", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "L", ""))
		must(t, s.SetSubscribed(ctx, u.ID, "L", true))
		if !mailbox(t, s, u, "L").Subscribed {
			t.Fatal("not subscribed")
		}
		must(t, s.SetSubscribed(ctx, u.ID, "L", false))
		if mailbox(t, s, u, "L").Subscribed {
			t.Fatal("still subscribed")
		}
		must(t, s.SetSubscribed(ctx, u.ID, "inbox", true))
		if !mailbox(t, s, u, "INBOX").Subscribed {
			t.Fatal("INBOX not subscribed")
		}
		wantErr(t, s.SetSubscribed(ctx, u.ID, "Missing", true), store.ErrNotFound, "subscribe missing")
	})

	t.Run("PurgeUser", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		a, b := newUser(t, s, "a"), newUser(t, s, "b")
		shared := msg(10)
		insert(t, s, a, mailbox(t, s, a, "INBOX"), shared)
		insert(t, s, b, mailbox(t, s, b, "INBOX"), shared)
		own := msg(10)
		insert(t, s, a, mailbox(t, s, a, "Sent"), own)
		from := time.Now()
		must(t, s.PurgeUser(ctx, a.ID))
		wantScheduled(t, s, own.BlobKey, from, time.Now(), "PurgeUser")
		wantUnscheduled(t, s, shared.BlobKey, "PurgeUser, shared")
		if mbs, _ := s.ListMailboxes(ctx, a.ID); len(mbs) != 0 {
			t.Fatalf("mailboxes after purge: %q", names(mbs))
		}
		if mb := mailbox(t, s, b, "INBOX"); mb.Messages != 1 {
			t.Fatalf("other user's INBOX after purge: %+v", mb)
		}
		from = time.Now()
		must(t, s.PurgeUser(ctx, b.ID))
		wantScheduled(t, s, shared.BlobKey, from, time.Now(), "PurgeUser(b)")
	})
}
