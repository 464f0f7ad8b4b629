package storetest

import (
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// testQuota checks that User.Quota is persisted by SetQuota and that Usage
// follows inserts, copies, moves, expunges and mailbox deletion.
func testQuota(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("SetQuota", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "q")
		if u.Quota != store.QuotaDefault {
			t.Fatalf("new user Quota = %d, want %d", u.Quota, store.QuotaDefault)
		}
		must(t, s.SetQuota(ctx, "Q@Example.org", 5<<20))
		got, err := s.UserByAddress(ctx, "q@example.org")
		must(t, err)
		if got.Quota != 5<<20 {
			t.Fatalf("UserByAddress Quota = %d, want %d", got.Quota, 5<<20)
		}
		got, err = s.UserByID(ctx, u.ID)
		must(t, err)
		if got.Quota != 5<<20 {
			t.Fatalf("UserByID Quota = %d", got.Quota)
		}
		must(t, s.SetQuota(ctx, "q@example.org", store.QuotaUnlimited))
		all, err := s.Users(ctx)
		must(t, err)
		if len(all) != 1 || all[0].Quota != store.QuotaUnlimited {
			t.Fatalf("Users = %+v, want one with Quota -1", all)
		}
		must(t, s.SetQuota(ctx, "q@example.org", store.QuotaDefault))
		if got, _ := s.UserByID(ctx, u.ID); got.Quota != 0 {
			t.Fatalf("Quota after reset = %d", got.Quota)
		}
		wantErr(t, s.SetQuota(ctx, "nobody@example.org", 1), store.ErrNotFound, "quota of missing user")
		wantErr(t, s.SetQuota(ctx, "q@example.org", -2), store.ErrInvalid, "quota -2")
	})

	t.Run("Usage", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		other := newUser(t, s, "b")
		usage := func(want int64, what string) {
			t.Helper()
			got, err := s.Usage(ctx, u.ID)
			must(t, err)
			if got != want {
				t.Fatalf("%s: Usage = %d, want %d", what, got, want)
			}
		}
		usage(0, "empty")
		if n, err := s.Usage(ctx, "no-such-user"); err != nil || n != 0 {
			t.Fatalf("Usage(unknown) = %d, %v", n, err)
		}
		inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
		u1 := insert(t, s, u, inbox, msg(100, store.FlagDeleted))
		u2 := insert(t, s, u, inbox, msg(200))
		insert(t, s, other, mailbox(t, s, other, store.Inbox), msg(1000))
		usage(300, "after insert")
		_, _, err := s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{u2}, archive.ID)
		must(t, err)
		usage(500, "after copy")
		_, _, err = s.MoveMessages(ctx, u.ID, archive.ID, []uint32{1}, inbox.ID)
		must(t, err)
		usage(500, "after move")
		_, err = s.Expunge(ctx, u.ID, inbox.ID, []uint32{u1})
		must(t, err)
		usage(400, "after expunge")
		must(t, s.CreateMailbox(ctx, u.ID, "Tmp", ""))
		tmp := mailbox(t, s, u, "Tmp")
		insert(t, s, u, tmp, msg(50))
		usage(450, "after insert into Tmp")
		err = s.DeleteMailbox(ctx, u.ID, "Tmp")
		must(t, err)
		usage(400, "after delete mailbox")
	})
}
