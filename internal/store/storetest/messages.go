package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

func testMessages(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("InsertAndList", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		m := msg(123, `\seen`, "$Label1")
		uid := insert(t, s, u, inbox, m)
		if uid != inbox.UIDNext {
			t.Fatalf("first UID = %d, want UIDNEXT %d", uid, inbox.UIDNext)
		}
		got, err := s.Messages(ctx, u.ID, inbox.ID, 1, 0, 0)
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("Messages = %+v", got)
		}
		g := got[0]
		if g.UID != uid || g.BlobKey != m.BlobKey || string(g.Prefix) != string(m.Prefix) || g.Size != 123 ||
			!g.InternalDate.Equal(m.InternalDate) || string(g.Summary) != string(m.Summary) || g.ModSeq == 0 {
			t.Fatalf("Messages[0] = %+v, inserted %+v", g, m)
		}
		if !slices.Equal(g.Flags, []string{"$Label1", store.FlagSeen}) && !slices.Equal(g.Flags, []string{store.FlagSeen, "$Label1"}) {
			t.Fatalf("flags = %q", g.Flags)
		}
		mb := mailbox(t, s, u, "INBOX")
		if mb.UIDNext != uid+1 || mb.Messages != 1 || mb.Unseen != 0 || mb.Size != 123 || mb.HighestModSeq < g.ModSeq ||
			mb.HighestModSeq <= inbox.HighestModSeq {
			t.Fatalf("mailbox after insert: %+v (before %+v)", mb, inbox)
		}
		_, _, err = s.InsertMessage(ctx, u.ID, "no-such-mailbox", "", msg(1))
		wantErr(t, err, store.ErrNotFound, "insert into missing mailbox")
	})

	t.Run("MessageHeads", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		var all []uint32
		for i := range 5 {
			all = append(all, insert(t, s, u, inbox, msg(int64(100+i), `\Seen`)))
		}
		_, err := s.SetFlags(ctx, u.ID, inbox.ID, all[2:3], store.FlagsAdd, []string{store.FlagFlagged})
		must(t, err)
		for _, q := range []struct {
			first, last uint32
			since       uint64
		}{{1, 0, 0}, {all[1], all[3], 0}, {1, 0, inbox.HighestModSeq}} {
			full, err := s.Messages(ctx, u.ID, inbox.ID, q.first, q.last, q.since)
			must(t, err)
			heads, err := s.MessageHeads(ctx, u.ID, inbox.ID, q.first, q.last, q.since)
			must(t, err)
			if len(full) == 0 || len(heads) != len(full) {
				t.Fatalf("%+v: %d heads, %d messages", q, len(heads), len(full))
			}
			for i, h := range heads {
				f := full[i]
				if h.UID != f.UID || h.BlobKey != f.BlobKey || (h.Prefix != nil && string(h.Prefix) != string(f.Prefix)) || h.Size != f.Size ||
					!h.InternalDate.Equal(f.InternalDate) || !slices.Equal(h.Flags, f.Flags) || h.ModSeq != f.ModSeq ||
					(h.Summary != nil && string(h.Summary) != string(f.Summary)) {
					t.Fatalf("%+v: head %+v, message %+v", q, h, f)
				}
			}
		}
	})

	t.Run("SeenUIDs", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		a := insert(t, s, u, inbox, msg(1, store.FlagSeen))
		b := insert(t, s, u, inbox, msg(1))
		c := insert(t, s, u, inbox, msg(1, store.FlagSeen, store.FlagFlagged))
		d := insert(t, s, u, inbox, msg(1, store.FlagFlagged))
		_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a}, store.FlagsRemove, []string{store.FlagSeen})
		must(t, err)
		_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{d}, store.FlagsAdd, []string{store.FlagSeen})
		must(t, err)
		seen, err := s.SeenUIDs(ctx, u.ID, inbox.ID, true)
		must(t, err)
		unseen, err := s.SeenUIDs(ctx, u.ID, inbox.ID, false)
		must(t, err)
		if !slices.Equal(seen, []uint32{c, d}) || !slices.Equal(unseen, []uint32{a, b}) {
			t.Fatalf("seen %v, unseen %v; want [%d %d] and [%d %d]", seen, unseen, c, d, a, b)
		}
		other := mailbox(t, s, u, "Trash")
		if got, err := s.SeenUIDs(ctx, u.ID, other.ID, false); err != nil || len(got) != 0 {
			t.Fatalf("empty mailbox: %v, %v", got, err)
		}
	})

	t.Run("UIDsNeverReused", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		var all []uint32
		for range 5 {
			all = append(all, insert(t, s, u, inbox, msg(1)))
		}
		if !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != 5 {
			t.Fatalf("UIDs not strictly increasing: %v", all)
		}
		if got := uids(t, s, u, inbox); !slices.Equal(got, all) {
			t.Fatalf("UIDs = %v, want %v", got, all)
		}
		_, err := s.SetFlags(ctx, u.ID, inbox.ID, all[3:], store.FlagsAdd, []string{store.FlagDeleted})
		must(t, err)
		exp, err := s.Expunge(ctx, u.ID, inbox.ID, nil)
		must(t, err)
		if !slices.Equal(exp, all[3:]) {
			t.Fatalf("expunged %v, want %v", exp, all[3:])
		}
		next := insert(t, s, u, inbox, msg(1))
		if next <= all[4] {
			t.Fatalf("UID %d reused after expunge of %v", next, all[3:])
		}
		if mb := mailbox(t, s, u, "INBOX"); mb.UIDValidity != inbox.UIDValidity || mb.UIDNext != next+1 {
			t.Fatalf("mailbox %+v", mb)
		}
	})

	t.Run("Range", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		var all []uint32
		for range 6 {
			all = append(all, insert(t, s, u, inbox, msg(1)))
		}
		got, err := s.Messages(ctx, u.ID, inbox.ID, all[1], all[3], 0)
		must(t, err)
		if !slices.Equal(msgUIDs(got), all[1:4]) {
			t.Fatalf("Messages(%d:%d) = %v", all[1], all[3], msgUIDs(got))
		}
		got, _ = s.Messages(ctx, u.ID, inbox.ID, all[4], 0, 0)
		if !slices.Equal(msgUIDs(got), all[4:]) {
			t.Fatalf("Messages(%d:*) = %v", all[4], msgUIDs(got))
		}
		got, _ = s.Messages(ctx, u.ID, inbox.ID, all[5]+1, 0, 0)
		if len(got) != 0 {
			t.Fatalf("Messages beyond last = %v", msgUIDs(got))
		}
	})

	t.Run("ModSeq", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		prev := inbox.HighestModSeq
		step := func(what string) uint64 {
			t.Helper()
			mb := mailbox(t, s, u, "INBOX")
			if mb.HighestModSeq <= prev {
				t.Fatalf("%s: HIGHESTMODSEQ %d did not grow from %d", what, mb.HighestModSeq, prev)
			}
			prev = mb.HighestModSeq
			return prev
		}
		u1 := insert(t, s, u, inbox, msg(1))
		step("insert")
		u2 := insert(t, s, u, inbox, msg(1))
		afterInsert := step("insert")
		changed, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{u1}, store.FlagsAdd, []string{store.FlagFlagged})
		must(t, err)
		hm := step("set flags")
		if len(changed) != 1 || changed[0].UID != u1 || changed[0].ModSeq != hm {
			t.Fatalf("SetFlags = %+v, HIGHESTMODSEQ %d", changed, hm)
		}
		got, err := s.Messages(ctx, u.ID, inbox.ID, 1, 0, afterInsert)
		must(t, err)
		if !slices.Equal(msgUIDs(got), []uint32{u1}) || got[0].ModSeq != hm {
			t.Fatalf("CHANGEDSINCE %d = %+v", afterInsert, got)
		}
		_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{u2}, store.FlagsAdd, []string{store.FlagDeleted})
		must(t, err)
		step("set deleted")
		_, err = s.Expunge(ctx, u.ID, inbox.ID, nil)
		must(t, err)
		step("expunge")
	})

	t.Run("Flags", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		a := insert(t, s, u, inbox, msg(1, `\SEEN`, `\seen`, "Work", "work"))
		b := insert(t, s, u, inbox, msg(1))
		flags := func(uid uint32) []string {
			t.Helper()
			got, err := s.Messages(ctx, u.ID, inbox.ID, uid, uid, 0)
			must(t, err)
			if len(got) != 1 {
				t.Fatalf("message %d missing", uid)
			}
			return got[0].Flags
		}
		if got := flags(a); !sameSet(got, []string{store.FlagSeen, "Work"}) {
			t.Fatalf("normalized flags = %q", got)
		}
		if mb := mailbox(t, s, u, "INBOX"); mb.Unseen != 1 {
			t.Fatalf("Unseen = %d, want 1", mb.Unseen)
		}
		changed, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a, b}, store.FlagsAdd, []string{`\Seen`})
		must(t, err)
		if len(changed) != 1 || changed[0].UID != b || !sameSet(changed[0].Flags, []string{store.FlagSeen}) {
			t.Fatalf("add \\Seen changed %+v, want only %d", changed, b)
		}
		if mb := mailbox(t, s, u, "INBOX"); mb.Unseen != 0 {
			t.Fatalf("Unseen = %d, want 0", mb.Unseen)
		}
		changed, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a, b}, store.FlagsRemove, []string{"WORK", `\flagged`})
		must(t, err)
		if len(changed) != 1 || changed[0].UID != a || !sameSet(changed[0].Flags, []string{store.FlagSeen}) {
			t.Fatalf("remove work changed %+v", changed)
		}
		changed, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a, b, 9999}, store.FlagsReplace, []string{`\answered`, "$Junk"})
		must(t, err)
		if len(changed) != 2 {
			t.Fatalf("replace changed %+v", changed)
		}
		for _, uid := range []uint32{a, b} {
			if got := flags(uid); !sameSet(got, []string{store.FlagAnswered, "$Junk"}) {
				t.Fatalf("after replace %d: %q", uid, got)
			}
		}
		if mb := mailbox(t, s, u, "INBOX"); mb.Unseen != 2 {
			t.Fatalf("Unseen = %d, want 2", mb.Unseen)
		}
		changed, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a}, store.FlagsReplace, []string{"$junk", `\ANSWERED`})
		must(t, err)
		if len(changed) != 0 {
			t.Fatalf("replace with the same set changed %+v", changed)
		}
		changed, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a}, store.FlagsReplace, nil)
		must(t, err)
		if len(changed) != 1 || len(flags(a)) != 0 {
			t.Fatalf("clear: %+v, %q", changed, flags(a))
		}
	})

	t.Run("Expunge", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox := mailbox(t, s, u, "INBOX")
		var all []uint32
		for i := range 5 {
			all = append(all, insert(t, s, u, inbox, msg(int64(10*(i+1)))))
		}
		_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{all[0], all[2], all[4]}, store.FlagsAdd, []string{store.FlagDeleted})
		must(t, err)
		exp, err := s.Expunge(ctx, u.ID, inbox.ID, []uint32{all[1], all[2]})
		must(t, err)
		if !slices.Equal(exp, []uint32{all[2]}) {
			t.Fatalf("UID EXPUNGE = %v, want [%d]", exp, all[2])
		}
		exp, err = s.Expunge(ctx, u.ID, inbox.ID, []uint32{})
		must(t, err)
		if len(exp) != 0 {
			t.Fatalf("expunge of no uids = %v", exp)
		}
		exp, err = s.Expunge(ctx, u.ID, inbox.ID, nil)
		must(t, err)
		if !slices.Equal(exp, []uint32{all[0], all[4]}) {
			t.Fatalf("EXPUNGE = %v", exp)
		}
		if got := uids(t, s, u, inbox); !slices.Equal(got, []uint32{all[1], all[3]}) {
			t.Fatalf("UIDs = %v", got)
		}
		if mb := mailbox(t, s, u, "INBOX"); mb.Messages != 2 || mb.Size != 20+40 || mb.Unseen != 2 {
			t.Fatalf("counters %+v", mb)
		}
	})

	t.Run("Idempotency", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		a, b := newUser(t, s, "a"), newUser(t, s, "b")
		ia, ib := mailbox(t, s, a, "INBOX"), mailbox(t, s, b, "INBOX")
		m := msg(10)
		uid, dup, err := s.InsertMessage(ctx, a.ID, ia.ID, "Q1/"+a.ID, m)
		must(t, err)
		if dup {
			t.Fatal("first insert is dup")
		}
		again, dup, err := s.InsertMessage(ctx, a.ID, ia.ID, "Q1/"+a.ID, m)
		must(t, err)
		if !dup || again != uid {
			t.Fatalf("second insert = %d, %v; want %d, true", again, dup, uid)
		}
		if mb := mailbox(t, s, a, "INBOX"); mb.Messages != 1 {
			t.Fatalf("duplicate stored: %+v", mb)
		}
		if _, dup, _ := s.InsertMessage(ctx, b.ID, ib.ID, "Q1/"+a.ID, m); dup {
			t.Fatal("another user's key counted as dup")
		}
		// After expunge the key still holds: a late retry must not resurrect the message.
		_, err = s.SetFlags(ctx, a.ID, ia.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagDeleted})
		must(t, err)
		_, err = s.Expunge(ctx, a.ID, ia.ID, nil)
		must(t, err)
		if _, dup, _ := s.InsertMessage(ctx, a.ID, ia.ID, "Q1/"+a.ID, m); !dup {
			t.Fatal("key forgotten after expunge")
		}
		if mb := mailbox(t, s, a, "INBOX"); mb.Messages != 0 {
			t.Fatalf("message resurrected: %+v", mb)
		}
	})

	t.Run("CopyMove", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox, arch := mailbox(t, s, u, "INBOX"), mailbox(t, s, u, "Archive")
		x := insert(t, s, u, arch, msg(1)) // Archive's UIDs are ahead of INBOX's
		_ = x
		m1, m2, m3 := msg(10, store.FlagSeen, "Keep"), msg(20), msg(30)
		u1, u2, u3 := insert(t, s, u, inbox, m1), insert(t, s, u, inbox, m2), insert(t, s, u, inbox, m3)

		src, dst, err := s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{u3, u1, 9999}, arch.ID)
		must(t, err)
		if !slices.Equal(src, []uint32{u1, u3}) || len(dst) != 2 || dst[0] <= x || dst[1] <= dst[0] {
			t.Fatalf("copy = %v -> %v", src, dst)
		}
		got, err := s.Messages(ctx, u.ID, arch.ID, dst[0], dst[0], 0)
		must(t, err)
		if len(got) != 1 || got[0].BlobKey != m1.BlobKey || !sameSet(got[0].Flags, []string{store.FlagSeen, "Keep"}) ||
			!got[0].InternalDate.Equal(m1.InternalDate) || got[0].Size != 10 {
			t.Fatalf("copied message %+v", got)
		}
		if mb := mailbox(t, s, u, "INBOX"); mb.Messages != 3 {
			t.Fatalf("copy changed source: %+v", mb)
		}
		if mb := mailbox(t, s, u, "Archive"); mb.Messages != 3 || mb.Size != 1+10+30 || mb.Unseen != 2 {
			t.Fatalf("Archive after copy: %+v", mb)
		}

		trash := mailbox(t, s, u, "Trash")
		src, dst, err = s.MoveMessages(ctx, u.ID, inbox.ID, []uint32{u2, u3}, trash.ID)
		must(t, err)
		if !slices.Equal(src, []uint32{u2, u3}) || len(dst) != 2 {
			t.Fatalf("move = %v -> %v", src, dst)
		}
		if got := uids(t, s, u, inbox); !slices.Equal(got, []uint32{u1}) {
			t.Fatalf("INBOX after move: %v", got)
		}
		if got := uids(t, s, u, trash); !slices.Equal(got, dst) {
			t.Fatalf("Trash after move: %v, want %v", got, dst)
		}
		if mb := mailbox(t, s, u, "INBOX"); mb.Messages != 1 || mb.Size != 10 || mb.Unseen != 0 {
			t.Fatalf("INBOX counters after move: %+v", mb)
		}
		if mb := mailbox(t, s, u, "Trash"); mb.Messages != 2 || mb.Size != 50 || mb.Unseen != 2 {
			t.Fatalf("Trash counters after move: %+v", mb)
		}
		src, dst, err = s.MoveMessages(ctx, u.ID, inbox.ID, []uint32{9999}, trash.ID)
		must(t, err)
		if len(src) != 0 || len(dst) != 0 {
			t.Fatalf("move of missing uid = %v -> %v", src, dst)
		}
		_, _, err = s.MoveMessages(ctx, u.ID, inbox.ID, []uint32{u1}, "no-such-mailbox")
		wantErr(t, err, store.ErrNotFound, "move to missing mailbox")
		if got := uids(t, s, u, inbox); !slices.Equal(got, []uint32{u1}) {
			t.Fatalf("failed move changed INBOX: %v", got)
		}
	})

	t.Run("RefCounts", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		inbox, arch := mailbox(t, s, u, "INBOX"), mailbox(t, s, u, "Archive")
		m := msg(10)
		a := insert(t, s, u, inbox, m)
		_, dst, err := s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{a}, arch.ID)
		must(t, err)
		expunge := func(mb store.Mailbox, uid uint32) {
			t.Helper()
			_, err := s.SetFlags(ctx, u.ID, mb.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagDeleted})
			must(t, err)
			exp, err := s.Expunge(ctx, u.ID, mb.ID, nil)
			must(t, err)
			if !slices.Equal(exp, []uint32{uid}) {
				t.Fatalf("expunged %v", exp)
			}
		}
		expunge(inbox, a)
		wantUnscheduled(t, s, m.BlobKey, "expunged while a copy remains")
		// Move keeps the one reference.
		trash := mailbox(t, s, u, "Trash")
		_, moved, err := s.MoveMessages(ctx, u.ID, arch.ID, dst, trash.ID)
		must(t, err)
		wantUnscheduled(t, s, m.BlobKey, "moved")
		from := time.Now()
		expunge(trash, moved[0])
		wantScheduled(t, s, m.BlobKey, from, time.Now(), "last expunge")
	})
}

func msgUIDs(ms []store.Message) []uint32 {
	out := make([]uint32, len(ms))
	for i, m := range ms {
		out[i] = m.UID
	}
	return out
}
