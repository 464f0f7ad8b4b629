package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// testIMAPState checks what the IMAP extensions read from the index:
// \Recent, keywords, SAVEDATE, OBJECTID, STATUS DELETED, VANISHED and
// MULTIAPPEND.
func testIMAPState(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Recent", func(t *testing.T) {
		s := open(t)
		u := newUser(t, s, "recent")
		inbox := mailbox(t, s, u, store.Inbox)
		wantClaim(t, s, u, inbox, 0, 0, "empty mailbox")
		insert(t, s, u, inbox, msg(1))
		insert(t, s, u, inbox, msg(1))
		wantClaim(t, s, u, inbox, 1, 2, "after two deliveries")
		wantClaim(t, s, u, inbox, 0, 0, "claimed again")
		insert(t, s, u, inbox, msg(1))
		wantClaim(t, s, u, inbox, 3, 3, "a delivery after the claim")
		// A copy is a new message of the destination (RFC 3501 2.3.2).
		archive := mailbox(t, s, u, "Archive")
		_, _, err := s.CopyMessages(ctxFor(t), u.ID, inbox.ID, []uint32{1, 2}, archive.ID)
		must(t, err)
		wantClaim(t, s, u, archive, 1, 2, "copies")
		_, _, err = s.ClaimRecent(ctxFor(t), u.ID, "no-such-mailbox")
		wantErr(t, err, store.ErrNotFound, "ClaimRecent of an unknown mailbox")
		_, _, err = s.ClaimRecent(ctxFor(t), newUser(t, s, "stranger").ID, inbox.ID)
		wantErr(t, err, store.ErrNotFound, "ClaimRecent of another user's mailbox")
	})
	t.Run("CountRecent", func(t *testing.T) { testCountRecent(t, open(t)) })
	t.Run("RecentConcurrent", func(t *testing.T) {
		s := open(t)
		claimConcurrently(t, s, s)
	})
	t.Run("Keywords", func(t *testing.T) {
		s := open(t)
		ctx := ctxFor(t)
		u := newUser(t, s, "keywords")
		inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
		wantKeywords(t, s, u, store.Inbox, nil)
		uid := insert(t, s, u, inbox, msg(1, store.FlagSeen, "Work"))
		wantKeywords(t, s, u, store.Inbox, []string{"Work"})
		_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{"$Label1", "work", store.FlagFlagged})
		must(t, err)
		wantKeywords(t, s, u, store.Inbox, []string{"Work", "$Label1"})
		_, _, err = s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{uid}, archive.ID)
		must(t, err)
		wantKeywords(t, s, u, "Archive", []string{"$Label1", "Work"}) // in the message's order
		// A keyword no message has any more stays listed.
		_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsReplace, []string{store.FlagSeen})
		must(t, err)
		wantKeywords(t, s, u, store.Inbox, []string{"Work", "$Label1"})
		muid := insert(t, s, u, inbox, msg(1, "Moving"))
		_, _, err = s.MoveMessages(ctx, u.ID, inbox.ID, []uint32{muid}, archive.ID)
		must(t, err)
		wantKeywords(t, s, u, "Archive", []string{"$Label1", "Work", "Moving"})
	})
	t.Run("KeywordLimit", func(t *testing.T) { testKeywordLimit(t, open(t)) })
	t.Run("SaveDate", func(t *testing.T) {
		s := open(t)
		ctx := ctxFor(t)
		u := newUser(t, s, "savedate")
		inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
		before := time.Now().Add(-time.Second)
		uid := insert(t, s, u, inbox, msg(1)) // internal date in 2024
		_, dst, err := s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{uid}, archive.ID)
		must(t, err)
		after := time.Now().Add(time.Second)
		for _, c := range []struct {
			mb  store.Mailbox
			uid uint32
		}{{inbox, uid}, {archive, dst[0]}} {
			m := oneMessage(t, s, u, c.mb, c.uid)
			if m.SaveDate.Before(before) || m.SaveDate.After(after) || m.SaveDate.Equal(m.InternalDate) {
				t.Fatalf("%s: SaveDate %v, internal date %v; saved between %v and %v", c.mb.Name, m.SaveDate, m.InternalDate, before, after)
			}
			heads, err := s.MessageHeads(ctx, u.ID, c.mb.ID, c.uid, c.uid, 0)
			must(t, err)
			if len(heads) != 1 || !heads[0].SaveDate.Equal(m.SaveDate) {
				t.Fatalf("%s: MessageHeads %+v, Messages SaveDate %v", c.mb.Name, heads, m.SaveDate)
			}
		}
	})
	t.Run("EmailID", func(t *testing.T) { testEmailID(t, open(t)) })
	t.Run("Deleted", func(t *testing.T) { testDeletedCount(t, open(t)) })
	t.Run("Vanished", func(t *testing.T) { testVanished(t, open(t)) })
	t.Run("VanishedBound", func(t *testing.T) { testVanishedBound(t, open(t)) })
	t.Run("InsertMessages", func(t *testing.T) { testInsertMessages(t, open(t)) })
	t.Run("InsertMessagesIdempotency", func(t *testing.T) { testInsertMessagesIdem(t, open(t)) })
}

func wantClaim(t *testing.T, s store.Store, u store.User, mb store.Mailbox, first, last uint32, what string) {
	t.Helper()
	f, l, err := s.ClaimRecent(ctxFor(t), u.ID, mb.ID)
	must(t, err)
	if f != first || l != last {
		t.Fatalf("%s: ClaimRecent = %d:%d, want %d:%d", what, f, l, first, last)
	}
}

// claimConcurrently delivers messages while claimers on a and b claim
// \Recent: every UID is claimed exactly once, by one of them.
func claimConcurrently(t *testing.T, a, b store.Store) {
	u := newUser(t, a, "claimers")
	inbox := mailbox(t, a, u, store.Inbox)
	const n, claimers = 60, 4
	var mu sync.Mutex
	claims := map[uint32]int{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	claim := func(s store.Store) error {
		first, last, err := s.ClaimRecent(ctxFor(t), u.ID, inbox.ID)
		if err != nil || first == 0 && last == 0 {
			return err
		}
		if first > last {
			return fmt.Errorf("claim %d:%d", first, last)
		}
		mu.Lock()
		defer mu.Unlock()
		for uid := first; uid <= last; uid++ {
			claims[uid]++
		}
		return nil
	}
	errs := make(chan error, claimers)
	for i := range claimers {
		s := []store.Store{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := claim(s); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range n {
		insert(t, a, u, inbox, msg(1))
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	must(t, claim(b)) // what came after the last claim
	for uid := uint32(1); uid <= n; uid++ {
		if claims[uid] != 1 {
			t.Fatalf("UID %d claimed %d times (claims %v)", uid, claims[uid], claims)
		}
	}
	if len(claims) != n {
		t.Fatalf("claimed %d UIDs, delivered %d", len(claims), n)
	}
}

func wantKeywords(t *testing.T, s store.Store, u store.User, name string, want []string) {
	t.Helper()
	mb := mailbox(t, s, u, name)
	if !slices.Equal(mb.Keywords, want) {
		t.Fatalf("%s: Keywords %q, want %q", name, mb.Keywords, want)
	}
	mbs, err := s.ListMailboxes(ctxFor(t), u.ID)
	must(t, err)
	for _, l := range mbs {
		if l.ID == mb.ID && !slices.Equal(l.Keywords, want) {
			t.Fatalf("%s: ListMailboxes Keywords %q, want %q", name, l.Keywords, want)
		}
	}
}

// testKeywordLimit fills a mailbox with store.MaxKeywords keywords: the
// next new keyword is refused (ErrLimit) by SetFlags, InsertMessage,
// InsertMessages and CopyMessages, which then change nothing; keywords
// in use stay usable.
func testKeywordLimit(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "kwlimit")
	inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
	var kws []string
	for i := range store.MaxKeywords {
		kws = append(kws, fmt.Sprintf("k%03d", i))
	}
	uid := insert(t, s, u, inbox, msg(1))
	_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, kws)
	must(t, err)
	full := mailbox(t, s, u, store.Inbox)
	if len(full.Keywords) != store.MaxKeywords {
		t.Fatalf("%d keywords, want %d", len(full.Keywords), store.MaxKeywords)
	}
	_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{"one-too-many"})
	wantErr(t, err, store.ErrLimit, "SetFlags past the keyword limit")
	wantErr(t, err, store.ErrInvalid, "SetFlags past the keyword limit")
	_, _, err = s.InsertMessage(ctx, u.ID, inbox.ID, "", msg(1, "one-too-many"))
	wantErr(t, err, store.ErrLimit, "InsertMessage past the keyword limit")
	_, err = s.InsertMessages(ctx, u.ID, inbox.ID, []store.NewMessage{msg(1), msg(1, "one-too-many")})
	wantErr(t, err, store.ErrLimit, "InsertMessages past the keyword limit")
	if mb := mailbox(t, s, u, store.Inbox); mb.UIDNext != full.UIDNext || mb.HighestModSeq != full.HighestModSeq ||
		mb.Messages != full.Messages || len(mb.Keywords) != store.MaxKeywords {
		t.Fatalf("refused changes changed the mailbox: %+v, was %+v", mb, full)
	}
	if m := oneMessage(t, s, u, inbox, uid); len(m.Flags) != store.MaxKeywords {
		t.Fatalf("refused SetFlags changed the flags: %d flags", len(m.Flags))
	}
	// Keywords in use and system flags still go.
	_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{"K000", store.FlagSeen})
	must(t, err)
	insert(t, s, u, inbox, msg(1, "k001", store.FlagDeleted))

	// A copy bringing keywords into a full mailbox is refused too.
	auid := insert(t, s, u, archive, msg(1, "from-archive"))
	_, _, err = s.CopyMessages(ctx, u.ID, archive.ID, []uint32{auid}, inbox.ID)
	wantErr(t, err, store.ErrLimit, "CopyMessages past the keyword limit")
	_, _, err = s.MoveMessages(ctx, u.ID, archive.ID, []uint32{auid}, inbox.ID)
	wantErr(t, err, store.ErrLimit, "MoveMessages past the keyword limit")
	if got := uids(t, s, u, archive); !slices.Equal(got, []uint32{auid}) {
		t.Fatalf("refused move changed the source: %v", got)
	}
	moving := oneMessage(t, s, u, archive, auid)
	if refs, err := s.BlobRefs(ctx, moving.BlobKey); err != nil || refs != 1 {
		t.Fatalf("refs of a refused copy's object = %d, %v; want 1", refs, err)
	}
}

func oneMessage(t *testing.T, s store.Store, u store.User, mb store.Mailbox, uid uint32) store.Message {
	t.Helper()
	ms, err := s.Messages(ctxFor(t), u.ID, mb.ID, uid, uid, 0)
	must(t, err)
	if len(ms) != 1 {
		t.Fatalf("%s: message %d: %d found", mb.Name, uid, len(ms))
	}
	return ms[0]
}

// testEmailID: every insert gets a new valid EMAILID; copies and moves
// keep it, through any number of hops; listings agree; mailbox IDs are
// valid OBJECTIDs and survive a rename.
func testEmailID(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "objectid")
	inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
	for _, mb := range []store.Mailbox{inbox, archive} {
		if !store.ValidObjectID(mb.ID) {
			t.Fatalf("mailbox ID %q is no OBJECTID", mb.ID)
		}
	}
	seen := map[string]bool{}
	a := insert(t, s, u, inbox, msg(1))
	b := insert(t, s, u, inbox, msg(1))
	c := insert(t, s, u, archive, msg(1))
	for _, x := range []struct {
		mb  store.Mailbox
		uid uint32
	}{{inbox, a}, {inbox, b}, {archive, c}} {
		id := oneMessage(t, s, u, x.mb, x.uid).EmailID
		if !store.ValidObjectID(id) || seen[id] {
			t.Fatalf("EMAILID %q of %s %d: invalid or given twice", id, x.mb.Name, x.uid)
		}
		seen[id] = true
	}
	idA := oneMessage(t, s, u, inbox, a).EmailID
	must(t, s.CreateMailbox(ctx, u.ID, "Hop", ""))
	hop := mailbox(t, s, u, "Hop")
	_, cp, err := s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{a}, archive.ID)
	must(t, err)
	_, mv, err := s.MoveMessages(ctx, u.ID, archive.ID, cp, hop.ID)
	must(t, err)
	_, cp2, err := s.CopyMessages(ctx, u.ID, hop.ID, mv, hop.ID)
	must(t, err)
	for _, uid := range append(mv, cp2...) {
		if id := oneMessage(t, s, u, hop, uid).EmailID; id != idA {
			t.Fatalf("copy %d in Hop: EMAILID %q, want %q", uid, id, idA)
		}
	}
	heads, err := s.MessageHeads(ctx, u.ID, hop.ID, 1, 0, 0)
	must(t, err)
	for _, h := range heads {
		if h.EmailID != idA {
			t.Fatalf("MessageHeads %d: EMAILID %q, want %q", h.UID, h.EmailID, idA)
		}
	}
	if id := oneMessage(t, s, u, inbox, a).EmailID; id != idA {
		t.Fatalf("original's EMAILID changed to %q", id)
	}
	// Renames keep mailbox IDs (MAILBOXID) and EMAILIDs; renaming INBOX
	// moves its messages with their EMAILIDs.
	must(t, s.RenameMailbox(ctx, u.ID, "Hop", "Hopped"))
	if mb := mailbox(t, s, u, "Hopped"); mb.ID != hop.ID {
		t.Fatalf("rename changed the mailbox ID from %q to %q", hop.ID, mb.ID)
	}
	idB := oneMessage(t, s, u, inbox, b).EmailID
	_, _, err = s.ClaimRecent(ctx, u.ID, inbox.ID)
	must(t, err)
	must(t, s.RenameMailbox(ctx, u.ID, store.Inbox, "Old"))
	old := mailbox(t, s, u, "Old")
	if id := oneMessage(t, s, u, old, b).EmailID; id != idB {
		t.Fatalf("EMAILID after renaming INBOX: %q, want %q", id, idB)
	}
	// The moved messages keep their \Recent state: claimed in INBOX,
	// not recent again in the new mailbox.
	wantClaim(t, s, u, old, 0, 0, "the mailbox INBOX was renamed to")
	// New messages in INBOX and in the renamed mailbox get new IDs.
	n1 := oneMessage(t, s, u, inbox, insert(t, s, u, inbox, msg(1))).EmailID
	n2 := oneMessage(t, s, u, old, insert(t, s, u, old, msg(1))).EmailID
	for _, id := range []string{n1, n2} {
		if seen[id] || id == idA || id == idB {
			t.Fatalf("EMAILID %q given twice", id)
		}
		seen[id] = true
	}
}

// testDeletedCount keeps Mailbox.Deleted equal to the messages with
// \Deleted through every kind of change.
func testDeletedCount(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "deleted")
	inbox, trash := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Trash")
	check := func(what string) {
		t.Helper()
		for _, mb := range []store.Mailbox{inbox, trash} {
			heads, err := s.MessageHeads(ctx, u.ID, mb.ID, 1, 0, 0)
			must(t, err)
			var want, unseen uint32
			for _, h := range heads {
				if slices.Contains(h.Flags, store.FlagDeleted) {
					want++
				}
				if !slices.Contains(h.Flags, store.FlagSeen) {
					unseen++
				}
			}
			got := mailbox(t, s, u, mb.Name)
			if got.Deleted != want || got.Unseen != unseen {
				t.Fatalf("%s: %s: Deleted %d Unseen %d, want %d %d", what, mb.Name, got.Deleted, got.Unseen, want, unseen)
			}
		}
	}
	check("empty")
	a := insert(t, s, u, inbox, msg(1, store.FlagDeleted))
	bc, err := s.InsertMessages(ctx, u.ID, inbox.ID, []store.NewMessage{msg(1), msg(1, store.FlagDeleted, store.FlagSeen)})
	must(t, err)
	check("inserts")
	_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a, bc[0]}, store.FlagsAdd, []string{store.FlagDeleted})
	must(t, err)
	check("add")
	_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a}, store.FlagsRemove, []string{`\deleted`})
	must(t, err)
	check("remove")
	_, err = s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a, bc[1]}, store.FlagsReplace, []string{store.FlagDeleted})
	must(t, err)
	check("replace")
	_, _, err = s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{a, bc[0]}, trash.ID)
	must(t, err)
	check("copy")
	_, _, err = s.MoveMessages(ctx, u.ID, inbox.ID, []uint32{bc[1]}, trash.ID)
	must(t, err)
	check("move")
	_, _, err = s.MoveMessages(ctx, u.ID, trash.ID, []uint32{1}, trash.ID)
	must(t, err)
	check("move within a mailbox")
	_, err = s.Expunge(ctx, u.ID, inbox.ID, []uint32{a})
	must(t, err)
	check("uid expunge")
	_, err = s.Expunge(ctx, u.ID, trash.ID, nil)
	must(t, err)
	check("expunge")
	if mb := mailbox(t, s, u, "Trash"); mb.Deleted != 0 || mb.Messages != 0 {
		t.Fatalf("Trash after expunge: %+v", mb)
	}
}

// testVanished: Expunge and MoveMessages leave tombstones with the
// mod-sequence of the change, above every earlier one; Vanished answers
// from them, completely for a mailbox that lost nothing.
func testVanished(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "vanished")
	inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
	wantVanished(t, s, u, inbox, 0, nil, true)
	var all []uint32
	for range 6 {
		all = append(all, insert(t, s, u, inbox, msg(1)))
	}
	m0 := mailbox(t, s, u, store.Inbox).HighestModSeq
	_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{all[1], all[3], all[4]}, store.FlagsAdd, []string{store.FlagDeleted})
	must(t, err)
	m1 := mailbox(t, s, u, store.Inbox).HighestModSeq
	got, err := s.Expunge(ctx, u.ID, inbox.ID, []uint32{all[1], all[3]})
	must(t, err)
	if !slices.Equal(got, []uint32{all[1], all[3]}) {
		t.Fatalf("expunged %v", got)
	}
	m2 := mailbox(t, s, u, store.Inbox).HighestModSeq
	if m2 <= m1 {
		t.Fatalf("HIGHESTMODSEQ %d after expunge, was %d", m2, m1)
	}
	wantVanished(t, s, u, inbox, m0, []uint32{all[1], all[3]}, true)
	wantVanished(t, s, u, inbox, m1, []uint32{all[1], all[3]}, true)
	wantVanished(t, s, u, inbox, m2, nil, true)
	_, _, err = s.MoveMessages(ctx, u.ID, inbox.ID, []uint32{all[0], all[5]}, archive.ID)
	must(t, err)
	m3 := mailbox(t, s, u, store.Inbox).HighestModSeq
	if m3 <= m2 {
		t.Fatalf("HIGHESTMODSEQ %d after move, was %d", m3, m2)
	}
	wantVanished(t, s, u, inbox, m2, []uint32{all[0], all[5]}, true)
	wantVanished(t, s, u, inbox, m1, []uint32{all[0], all[1], all[3], all[5]}, true)
	wantVanished(t, s, u, inbox, m3, nil, true)
	wantVanished(t, s, u, inbox, 1<<63, nil, true)
	wantVanished(t, s, u, archive, 0, nil, true)
	// An expunge that finds nothing is no change.
	_, err = s.Expunge(ctx, u.ID, inbox.ID, []uint32{all[2]})
	must(t, err)
	if m := mailbox(t, s, u, store.Inbox).HighestModSeq; m != m3 {
		t.Fatalf("HIGHESTMODSEQ %d after an empty expunge, was %d", m, m3)
	}
	_, _, err = s.Vanished(ctx, u.ID, "no-such-mailbox", 0)
	wantErr(t, err, store.ErrNotFound, "Vanished of an unknown mailbox")
	// A deleted mailbox takes its tombstones along; one created under the
	// same name starts without.
	must(t, s.CreateMailbox(ctx, u.ID, "Tmp", ""))
	tmp := mailbox(t, s, u, "Tmp")
	insert(t, s, u, tmp, msg(1, store.FlagDeleted))
	_, err = s.Expunge(ctx, u.ID, tmp.ID, nil)
	must(t, err)
	wantVanished(t, s, u, tmp, 0, []uint32{1}, true)
	must(t, s.DeleteMailbox(ctx, u.ID, "Tmp"))
	_, _, err = s.Vanished(ctx, u.ID, tmp.ID, 0)
	wantErr(t, err, store.ErrNotFound, "Vanished of a deleted mailbox")
	must(t, s.CreateMailbox(ctx, u.ID, "Tmp", ""))
	wantVanished(t, s, u, mailbox(t, s, u, "Tmp"), 0, nil, true)
}

func wantVanished(t *testing.T, s store.Store, u store.User, mb store.Mailbox, since uint64, want []uint32, complete bool) {
	t.Helper()
	got, c, err := s.Vanished(ctxFor(t), u.ID, mb.ID, since)
	must(t, err)
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) || c != complete {
		t.Fatalf("%s: Vanished(%d) = %v complete %v, want %v %v", mb.Name, since, got, c, want, complete)
	}
}

// testVanishedBound expunges more than store.MaxTombstones messages: the
// oldest tombstones go, and Vanished says so for a mod-sequence before them.
func testVanishedBound(t *testing.T, s store.Store) {
	// Over 10,000 inserts and expunges: under -race on a busy 2-core
	// machine the SQLite expunge alone took over 30 s, ctxFor's bound.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	u := newUser(t, s, "bound")
	inbox := mailbox(t, s, u, store.Inbox)
	const extra = 5
	batch := make([]store.NewMessage, store.MaxTombstones+extra)
	for i := range batch {
		batch[i] = msg(1, store.FlagDeleted)
	}
	all, err := s.InsertMessages(ctx, u.ID, inbox.ID, batch)
	must(t, err)
	first, rest := all[:2*extra], all[2*extra:]
	m0 := mailbox(t, s, u, store.Inbox).HighestModSeq
	_, err = s.Expunge(ctx, u.ID, inbox.ID, first)
	must(t, err)
	m1 := mailbox(t, s, u, store.Inbox).HighestModSeq
	wantVanished(t, s, u, inbox, m0, first, true)
	_, err = s.Expunge(ctx, u.ID, inbox.ID, nil)
	must(t, err)
	// The first expunge's oldest tombstones are forgotten: from before
	// it, the answer is incomplete (and holds what is remembered).
	got, complete, err := s.Vanished(ctx, u.ID, inbox.ID, m0)
	must(t, err)
	if complete || !slices.Equal(got, all[extra:]) {
		t.Fatalf("Vanished(%d) after %d expunges: %d UIDs from %d, complete %v; want the last %d", m0, len(all),
			len(got), got[0], complete, store.MaxTombstones)
	}
	wantVanished(t, s, u, inbox, m1, rest, true)
}

// testInsertMessages: a batch gets consecutive UIDs in one change, or,
// with one bad message, is refused whole.
func testInsertMessages(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "multiappend")
	inbox := mailbox(t, s, u, store.Inbox)
	insert(t, s, u, inbox, msg(1))
	before := mailbox(t, s, u, store.Inbox)
	watch := s.Watch(ctx, u.ID)
	drain(watch)
	batch := []store.NewMessage{msg(10, store.FlagSeen), msg(20, "Batch"), msg(30)}
	got, err := s.InsertMessages(ctx, u.ID, inbox.ID, batch)
	must(t, err)
	waitSignal(t, watch, "InsertMessages")
	want := []uint32{before.UIDNext, before.UIDNext + 1, before.UIDNext + 2}
	if !slices.Equal(got, want) {
		t.Fatalf("InsertMessages UIDs %v, want %v", got, want)
	}
	after := mailbox(t, s, u, store.Inbox)
	if after.Messages != before.Messages+3 || after.Size != before.Size+60 || after.Unseen != before.Unseen+2 ||
		after.UIDNext != before.UIDNext+3 || after.HighestModSeq <= before.HighestModSeq {
		t.Fatalf("after InsertMessages: %+v, before %+v", after, before)
	}
	ms, err := s.Messages(ctx, u.ID, inbox.ID, got[0], 0, 0)
	must(t, err)
	for i, m := range ms {
		if m.UID != got[i] || m.BlobKey != batch[i].BlobKey || m.Size != batch[i].Size || m.ModSeq != after.HighestModSeq {
			t.Fatalf("message %d = %+v", i, m)
		}
	}
	for key, n := range map[string]int64{batch[0].BlobKey: 1, batch[2].BlobKey: 1} {
		if refs, err := s.BlobRefs(ctx, key); err != nil || refs != n {
			t.Fatalf("refs of %s = %d, %v", key, refs, err)
		}
	}
	bad := []store.NewMessage{msg(1), {BlobKey: "", Size: 1}}
	_, err = s.InsertMessages(ctx, u.ID, inbox.ID, bad)
	wantErr(t, err, store.ErrInvalid, "InsertMessages with a bad message")
	if mb := mailbox(t, s, u, store.Inbox); mb.UIDNext != after.UIDNext || mb.Messages != after.Messages {
		t.Fatalf("a refused batch changed the mailbox: %+v", mb)
	}
	if refs, err := s.BlobRefs(ctx, bad[0].BlobKey); err != nil || refs != 0 {
		t.Fatalf("refs of a refused batch's object = %d, %v", refs, err)
	}
	_, err = s.InsertMessages(ctx, u.ID, "no-such-mailbox", []store.NewMessage{msg(1)})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("InsertMessages into an unknown mailbox: %v", err)
	}
	if got, err := s.InsertMessages(ctx, u.ID, inbox.ID, nil); err != nil || len(got) != 0 {
		t.Fatalf("InsertMessages of nothing = %v, %v", got, err)
	}
}

// testInsertMessagesIdem checks that InsertMessages records each entry's
// idempotency key with the entry (invariant 3: reindex asks by the key
// whether an APPEND object is in the index), and that a used key or one
// given twice fails the whole batch.
func testInsertMessagesIdem(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "multiappend-idem")
	inbox := mailbox(t, s, u, store.Inbox)
	keyed := func(size int64, key string) store.NewMessage {
		m := msg(size)
		m.IdemKey = key
		return m
	}
	batch := []store.NewMessage{keyed(10, "A1/"+u.ID), msg(20), keyed(30, "A3/"+u.ID)}
	uids, err := s.InsertMessages(ctx, u.ID, inbox.ID, batch)
	must(t, err)
	// Each key leads to its own entry: InsertMessage with it is a
	// duplicate of that UID, and stores nothing.
	for i, key := range map[int]string{0: "A1/" + u.ID, 2: "A3/" + u.ID} {
		uid, dup, err := s.InsertMessage(ctx, u.ID, inbox.ID, key, msg(1))
		must(t, err)
		if !dup || uid != uids[i] {
			t.Fatalf("InsertMessage with the key of message %d = %d, dup %v; want %d, dup", i, uid, dup, uids[i])
		}
	}
	after := mailbox(t, s, u, store.Inbox)
	if after.Messages != 3 {
		t.Fatalf("after the batch and two duplicates: %d messages, want 3", after.Messages)
	}
	// A batch with a used key stores none of its messages.
	again := []store.NewMessage{keyed(5, "B1/"+u.ID), keyed(6, "A3/"+u.ID)}
	_, err = s.InsertMessages(ctx, u.ID, inbox.ID, again)
	wantErr(t, err, store.ErrExists, "InsertMessages with a used key")
	twice := []store.NewMessage{keyed(5, "C1/"+u.ID), keyed(6, "C1/"+u.ID)}
	_, err = s.InsertMessages(ctx, u.ID, inbox.ID, twice)
	wantErr(t, err, store.ErrInvalid, "InsertMessages with a key given twice")
	if mb := mailbox(t, s, u, store.Inbox); mb.UIDNext != after.UIDNext || mb.Messages != after.Messages {
		t.Fatalf("a refused batch changed the mailbox: %+v, before %+v", mb, after)
	}
	for _, m := range append(again, twice...) {
		if refs, err := s.BlobRefs(ctx, m.BlobKey); err != nil || refs != 0 {
			t.Fatalf("refs of a refused batch's object %s = %d, %v", m.BlobKey, refs, err)
		}
	}
	// The refused batch's new key was not kept either: it inserts now.
	if _, dup, err := s.InsertMessage(ctx, u.ID, inbox.ID, "B1/"+u.ID, msg(5)); err != nil || dup {
		t.Fatalf("InsertMessage with the key of a refused batch: dup %v, %v", dup, err)
	}
	// Keys are per user.
	other := newUser(t, s, "multiappend-idem-other")
	if _, err := s.InsertMessages(ctx, other.ID, mailbox(t, s, other, store.Inbox).ID,
		[]store.NewMessage{keyed(1, "A1/"+u.ID)}); err != nil {
		t.Fatalf("another user's key refused: %v", err)
	}
}

// testCountRecent checks that CountRecent counts what ClaimRecent would
// claim, of the messages still there, and moves nothing.
func testCountRecent(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "countrecent")
	inbox := mailbox(t, s, u, store.Inbox)
	wantCount := func(want uint32, what string) {
		t.Helper()
		n, err := s.CountRecent(ctx, u.ID, inbox.ID)
		must(t, err)
		if n != want {
			t.Fatalf("%s: CountRecent = %d, want %d", what, n, want)
		}
	}
	wantCount(0, "empty mailbox")
	a := insert(t, s, u, inbox, msg(1))
	insert(t, s, u, inbox, msg(1))
	insert(t, s, u, inbox, msg(1))
	wantCount(3, "after three deliveries")
	wantCount(3, "counted again") // counting claims nothing
	_, err := s.SetFlags(ctx, u.ID, inbox.ID, []uint32{a}, store.FlagsAdd, []string{store.FlagDeleted})
	must(t, err)
	_, err = s.Expunge(ctx, u.ID, inbox.ID, nil)
	must(t, err)
	wantCount(2, "after an expunge")
	wantClaim(t, s, u, inbox, a, a+2, "claim after counting")
	wantCount(0, "after the claim")
	insert(t, s, u, inbox, msg(1))
	wantCount(1, "a delivery after the claim")
	_, err = s.CountRecent(ctx, u.ID, "no-such-mailbox")
	wantErr(t, err, store.ErrNotFound, "CountRecent of an unknown mailbox")
	_, err = s.CountRecent(ctx, newUser(t, s, "countrecent-stranger").ID, inbox.ID)
	wantErr(t, err, store.ErrNotFound, "CountRecent of another user's mailbox")
}
