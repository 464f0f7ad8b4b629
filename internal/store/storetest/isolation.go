package storetest

import (
	"slices"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// testIsolation checks invariant 6: user B, holding the ID of user A's
// mailbox, can neither see nor change it.
func testIsolation(t *testing.T, open func(t *testing.T) store.Store) {
	s, ctx := open(t), ctxFor(t)
	a, b := newUser(t, s, "a"), newUser(t, s, "b")
	ia, ib := mailbox(t, s, a, "INBOX"), mailbox(t, s, b, "INBOX")
	if ia.ID == ib.ID {
		t.Fatal("two users share a mailbox ID")
	}
	uid := insert(t, s, a, ia, msg(10))

	_, err := s.Messages(ctx, b.ID, ia.ID, 1, 0, 0)
	wantErr(t, err, store.ErrNotFound, "Messages of A's mailbox as B")
	_, err = s.UIDs(ctx, b.ID, ia.ID)
	wantErr(t, err, store.ErrNotFound, "UIDs of A's mailbox as B")
	_, _, err = s.InsertMessage(ctx, b.ID, ia.ID, "", msg(1))
	wantErr(t, err, store.ErrNotFound, "insert into A's mailbox as B")
	_, err = s.SetFlags(ctx, b.ID, ia.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagDeleted})
	wantErr(t, err, store.ErrNotFound, "SetFlags on A's mailbox as B")
	_, err = s.Expunge(ctx, b.ID, ia.ID, nil)
	wantErr(t, err, store.ErrNotFound, "Expunge A's mailbox as B")
	_, _, err = s.CopyMessages(ctx, b.ID, ia.ID, []uint32{uid}, ib.ID)
	wantErr(t, err, store.ErrNotFound, "copy out of A's mailbox as B")
	_, _, err = s.MoveMessages(ctx, b.ID, ia.ID, []uint32{uid}, ib.ID)
	wantErr(t, err, store.ErrNotFound, "move out of A's mailbox as B")
	_, _, err = s.CopyMessages(ctx, a.ID, ia.ID, []uint32{uid}, ib.ID)
	wantErr(t, err, store.ErrNotFound, "copy into B's mailbox as A")
	_, _, err = s.MoveMessages(ctx, a.ID, ia.ID, []uint32{uid}, ib.ID)
	wantErr(t, err, store.ErrNotFound, "move into B's mailbox as A")

	if got := mailbox(t, s, a, "INBOX"); got.Messages != 1 || got.HighestModSeq != mailbox(t, s, a, "INBOX").HighestModSeq {
		t.Fatalf("A's INBOX changed: %+v", got)
	}
	if got := uids(t, s, a, ia); !slices.Equal(got, []uint32{uid}) {
		t.Fatalf("A's UIDs = %v", got)
	}
	if got := mailbox(t, s, b, "INBOX"); got.Messages != 0 {
		t.Fatalf("B's INBOX got A's message: %+v", got)
	}
	must(t, s.CreateMailbox(ctx, b.ID, "Private", ""))
	_, err = s.Mailbox(ctx, a.ID, "Private")
	wantErr(t, err, store.ErrNotFound, "B's mailbox by name as A")
	err = s.DeleteMailbox(ctx, a.ID, "Private")
	wantErr(t, err, store.ErrNotFound, "delete B's mailbox as A")
	mailbox(t, s, b, "Private")
}
