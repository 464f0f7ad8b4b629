package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// testCondStore checks what CONDSTORE (RFC 7162) reads from and asks of
// the index: STORE (UNCHANGEDSINCE n) and SEARCH MODSEQ.
func testCondStore(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("UnchangedSince", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "cond")
		inbox := mailbox(t, s, u, store.Inbox)
		for range 3 {
			insert(t, s, u, inbox, msg(1))
		}
		base := mailbox(t, s, u, store.Inbox).HighestModSeq
		// A third party changes message 2 after the client read base.
		_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{2}, store.FlagsAdd, []string{store.FlagFlagged})
		must(t, err)
		changed, failed, err := s.SetFlagsUnchangedSince(ctx, u.ID, inbox.ID, []uint32{1, 2, 3, 9}, store.FlagsAdd,
			[]string{store.FlagSeen}, base)
		must(t, err)
		if !slices.Equal(failed, []uint32{2}) || !slices.Equal(msgUIDs(changed), []uint32{1, 3}) {
			t.Fatalf("changed %v, failed %v; want [1 3], [2]", msgUIDs(changed), failed)
		}
		after := mailbox(t, s, u, store.Inbox)
		for _, m := range changed {
			if m.ModSeq != after.HighestModSeq || !slices.Equal(m.Flags, []string{store.FlagSeen}) {
				t.Fatalf("changed message %+v, HIGHESTMODSEQ %d", m, after.HighestModSeq)
			}
		}
		if m := oneMessage(t, s, u, inbox, 2); slices.Contains(m.Flags, store.FlagSeen) {
			t.Fatalf("message 2 changed although it failed the test: %+v", m)
		}
		// Messages that pass but already have the flags change nothing.
		changed, failed, err = s.SetFlagsUnchangedSince(ctx, u.ID, inbox.ID, []uint32{1, 3}, store.FlagsAdd,
			[]string{store.FlagSeen}, after.HighestModSeq)
		must(t, err)
		if len(changed) != 0 || len(failed) != 0 || mailbox(t, s, u, store.Inbox).HighestModSeq != after.HighestModSeq {
			t.Fatalf("no-op: changed %v failed %v", msgUIDs(changed), failed)
		}
		// UNCHANGEDSINCE 0 fails every message that exists (RFC 7162
		// section 3.1.3) and changes nothing.
		changed, failed, err = s.SetFlagsUnchangedSince(ctx, u.ID, inbox.ID, []uint32{1, 2, 3, 4}, store.FlagsReplace, nil, 0)
		must(t, err)
		if len(changed) != 0 || !slices.Equal(failed, []uint32{1, 2, 3}) {
			t.Fatalf("UNCHANGEDSINCE 0: changed %v, failed %v", msgUIDs(changed), failed)
		}
		if mailbox(t, s, u, store.Inbox).HighestModSeq != after.HighestModSeq {
			t.Fatal("UNCHANGEDSINCE 0 moved HIGHESTMODSEQ")
		}
		// The largest mod-sequence a client can send passes everything.
		changed, failed, err = s.SetFlagsUnchangedSince(ctx, u.ID, inbox.ID, []uint32{1, 2, 3}, store.FlagsReplace, nil, 1<<63-1)
		must(t, err)
		if len(failed) != 0 || !slices.Equal(msgUIDs(changed), []uint32{1, 2, 3}) {
			t.Fatalf("UNCHANGEDSINCE 2^63-1: changed %v, failed %v", msgUIDs(changed), failed)
		}
		_, _, err = s.SetFlagsUnchangedSince(ctx, u.ID, "no-such-mailbox", []uint32{1}, store.FlagsAdd, []string{store.FlagSeen}, 5)
		wantErr(t, err, store.ErrNotFound, "SetFlagsUnchangedSince of an unknown mailbox")
		_, _, err = s.SetFlagsUnchangedSince(ctx, newUser(t, s, "stranger").ID, inbox.ID, []uint32{1}, store.FlagsAdd,
			[]string{store.FlagSeen}, 1<<62)
		wantErr(t, err, store.ErrNotFound, "SetFlagsUnchangedSince of another user's mailbox")
	})
	t.Run("UnchangedSinceExclusive", func(t *testing.T) {
		s := open(t)
		unchangedSinceConcurrently(t, s, s)
	})
	t.Run("ModSeqUIDs", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "modseq")
		inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
		for range 5 {
			insert(t, s, u, inbox, msg(1))
		}
		mid := mailbox(t, s, u, store.Inbox).HighestModSeq
		_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{4, 2}, store.FlagsAdd, []string{store.FlagSeen})
		must(t, err)
		_, _, err = s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{1}, archive.ID)
		must(t, err)
		wantModSeqUIDs(t, s, u, inbox, 0, []uint32{1, 2, 3, 4, 5})
		wantModSeqUIDs(t, s, u, inbox, mid, []uint32{2, 4, 5}) // >=: the last insert had mid
		wantModSeqUIDs(t, s, u, inbox, mid+1, []uint32{2, 4})
		wantModSeqUIDs(t, s, u, inbox, mailbox(t, s, u, store.Inbox).HighestModSeq+1, []uint32{})
		wantModSeqUIDs(t, s, u, inbox, 1<<63, []uint32{})
		wantModSeqUIDs(t, s, u, archive, 0, []uint32{1})
		// An expunged message is gone from the answer.
		_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{4}, store.FlagsAdd, []string{store.FlagDeleted})
		must(t, err)
		_, err = s.Expunge(ctx, u.ID, inbox.ID, nil)
		must(t, err)
		wantModSeqUIDs(t, s, u, inbox, mid, []uint32{2, 5})
		_, err = s.ModSeqUIDs(ctx, u.ID, "no-such-mailbox", 0)
		wantErr(t, err, store.ErrNotFound, "ModSeqUIDs of an unknown mailbox")
		_, err = s.ModSeqUIDs(ctx, newUser(t, s, "stranger").ID, inbox.ID, 0)
		wantErr(t, err, store.ErrNotFound, "ModSeqUIDs of another user's mailbox")
	})
}

func wantModSeqUIDs(t *testing.T, s store.Store, u store.User, mb store.Mailbox, since uint64, want []uint32) {
	t.Helper()
	got, err := s.ModSeqUIDs(ctxFor(t), u.ID, mb.ID, since)
	must(t, err)
	if got == nil || !slices.Equal(got, want) {
		t.Fatalf("ModSeqUIDs(%d) = %v, want %v", since, got, want)
	}
}

// unchangedSinceConcurrently has a and b (two handles on one store, or one
// handle twice) race, round after round, on one message with the same
// UNCHANGEDSINCE: exactly one of them changes it, the other gets it back
// as failed ([MODIFIED]), and every mutation's mod-sequence is new.
func unchangedSinceConcurrently(t *testing.T, a, b store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, a, "race")
	inbox := mailbox(t, a, u, store.Inbox)
	uid := insert(t, a, u, inbox, msg(1))
	seen := map[uint64]bool{}
	for round := range 30 {
		base := oneMessage(t, a, u, inbox, uid).ModSeq
		type result struct {
			changed []store.Message
			failed  []uint32
			err     error
		}
		res := make([]result, 2)
		var wg sync.WaitGroup
		for i, s := range []store.Store{a, b} {
			wg.Go(func() {
				flag := fmt.Sprintf("$%c%d", 'A'+i, round) // a flag no one set before
				c, f, err := s.SetFlagsUnchangedSince(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsReplace, []string{flag}, base)
				res[i] = result{c, f, err}
			})
		}
		wg.Wait()
		winners := 0
		for i, r := range res {
			must(t, r.err)
			switch {
			case len(r.changed) == 1 && len(r.failed) == 0:
				winners++
				if seen[r.changed[0].ModSeq] || r.changed[0].ModSeq <= base {
					t.Fatalf("round %d: mod-sequence %d (base %d) handed out twice or not above base", round, r.changed[0].ModSeq, base)
				}
				seen[r.changed[0].ModSeq] = true
			case len(r.changed) == 0 && slices.Equal(r.failed, []uint32{uid}):
			default:
				t.Fatalf("round %d, caller %d: changed %v, failed %v", round, i, msgUIDs(r.changed), r.failed)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d callers changed the message, want exactly 1", round, winners)
		}
		// The message carries the winner's flag.
		m := oneMessage(t, a, u, inbox, uid)
		if len(m.Flags) != 1 || m.ModSeq == base {
			t.Fatalf("round %d: message %+v", round, m)
		}
	}
}

// modSeqAcross has a and b (two handles on one store) change one mailbox
// concurrently: every change gets a mod-sequence no other change got, each
// handle sees its own rise strictly, and HIGHESTMODSEQ ends at the largest.
func modSeqAcross(t *testing.T, a, b store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, a, "modseq")
	inbox := mailbox(t, a, u, store.Inbox)
	for range 4 {
		insert(t, a, u, inbox, msg(1))
	}
	const n = 40
	got := make([][]uint64, 2)
	var wg sync.WaitGroup
	for i, s := range []store.Store{a, b} {
		wg.Go(func() {
			for j := range n {
				op := []store.FlagOp{store.FlagsAdd, store.FlagsRemove}[j%2]
				changed, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{uint32(1 + i*2), uint32(2 + i*2)}, op, []string{store.FlagSeen})
				if err != nil || len(changed) != 2 {
					t.Errorf("handle %d: SetFlags = %v, %v", i, changed, err)
					return
				}
				got[i] = append(got[i], changed[0].ModSeq)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := map[uint64]bool{}
	var top uint64
	for i, ms := range got {
		if !slices.IsSorted(ms) || len(slices.Compact(slices.Clone(ms))) != len(ms) {
			t.Fatalf("handle %d: mod-sequences do not rise strictly: %v", i, ms)
		}
		for _, m := range ms {
			if all[m] {
				t.Fatalf("mod-sequence %d handed out to both handles", m)
			}
			all[m] = true
			top = max(top, m)
		}
	}
	for _, s := range []store.Store{a, b} {
		if h := mailbox(t, s, u, store.Inbox).HighestModSeq; h != top {
			t.Fatalf("HIGHESTMODSEQ %d, largest mod-sequence handed out %d", h, top)
		}
	}
}
