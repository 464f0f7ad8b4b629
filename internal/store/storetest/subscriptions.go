package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// testSubscriptions checks that subscriptions are names that outlive their
// mailboxes (RFC 9051 section 6.3.9): DELETE leaves them, RENAME moves
// those of a tree, UNSUBSCRIBE removes one whose mailbox is gone.
func testSubscriptions(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("OutliveDelete", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u, other := newUser(t, s, "a"), newUser(t, s, "b")
		var defaults []string
		for _, d := range store.DefaultMailboxes {
			defaults = append(defaults, d.Name)
		}
		slices.Sort(defaults)
		wantSubs(t, s, u, defaults...)

		must(t, s.CreateMailbox(ctx, u.ID, "A/B/C", ""))
		must(t, s.SetSubscribed(ctx, u.ID, "A/B", true))
		must(t, s.SetSubscribed(ctx, u.ID, "A/B/C", true))
		must(t, s.SetSubscribed(ctx, u.ID, "A/B", true)) // again: no change
		must(t, s.DeleteMailbox(ctx, u.ID, "A/B"))
		wantSubs(t, s, u, append([]string{"A/B", "A/B/C"}, defaults...)...)
		if _, err := s.Mailbox(ctx, u.ID, "A/B"); err == nil {
			t.Fatal("A/B still a mailbox")
		}
		// A mailbox created again under the name is subscribed.
		must(t, s.CreateMailbox(ctx, u.ID, "A/B", ""))
		if !mailbox(t, s, u, "A/B").Subscribed {
			t.Fatal("A/B created again: not subscribed")
		}
		must(t, s.DeleteMailbox(ctx, u.ID, "A/B"))
		wantSubs(t, s, u, append([]string{"A/B", "A/B/C"}, defaults...)...)

		// Unsubscribing a name whose mailbox is gone removes it; then it
		// is neither, and unsubscribing it again is ErrNotFound.
		must(t, s.SetSubscribed(ctx, u.ID, "A/B", false))
		wantSubs(t, s, u, append([]string{"A/B/C"}, defaults...)...)
		wantErr(t, s.SetSubscribed(ctx, u.ID, "A/B", false), store.ErrNotFound, "unsubscribe of nothing")
		// Subscribing needs a mailbox (and adds nothing when refused);
		// unsubscribing an unsubscribed mailbox is fine.
		wantErr(t, s.SetSubscribed(ctx, u.ID, "Missing", true), store.ErrNotFound, "subscribe missing")
		must(t, s.SetSubscribed(ctx, u.ID, "A", false))
		// INBOX in any case, and its subscription survives nothing else.
		must(t, s.SetSubscribed(ctx, u.ID, "inbox", false))
		must(t, s.SetSubscribed(ctx, u.ID, "Sent", false))
		must(t, s.DeleteMailbox(ctx, u.ID, "Sent"))
		wantSubs(t, s, u, "A/B/C", "Archive", "Drafts", "Junk", "Trash")
		must(t, s.SetSubscribed(ctx, u.ID, "INBOX", true))
		wantSubs(t, s, u, "A/B/C", "Archive", "Drafts", "INBOX", "Junk", "Trash")

		// Another user's subscriptions are untouched.
		wantSubs(t, s, other, defaults...)
		must(t, s.PurgeUser(ctx, u.ID))
		wantSubs(t, s, u)
		wantSubs(t, s, other, defaults...)
	})

	t.Run("Rename", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		for _, n := range []string{"A", "A/B", "A/B/C", "AX", "Q", "R"} {
			if n != "A" && n != "A/B" {
				must(t, s.CreateMailbox(ctx, u.ID, n, ""))
			}
		}
		for _, n := range []string{"A", "A/B/C", "AX", "Q"} {
			must(t, s.SetSubscribed(ctx, u.ID, n, true))
		}
		must(t, s.DeleteMailbox(ctx, u.ID, "A/B/C")) // a subscription below A without a mailbox
		must(t, s.SetSubscribed(ctx, u.ID, "A/B", true))
		must(t, s.DeleteMailbox(ctx, u.ID, "AX")) // next to A, not below it
		must(t, s.DeleteMailbox(ctx, u.ID, "Q"))
		must(t, s.SetSubscribed(ctx, u.ID, "Sent", false))
		must(t, s.SetSubscribed(ctx, u.ID, "Trash", false))
		must(t, s.SetSubscribed(ctx, u.ID, "Junk", false))
		must(t, s.SetSubscribed(ctx, u.ID, "Drafts", false))
		must(t, s.SetSubscribed(ctx, u.ID, "Archive", false))
		wantSubs(t, s, u, "A", "A/B", "A/B/C", "AX", "INBOX", "Q")

		// The subscriptions of A and of every name below it move, those
		// without a mailbox too.
		must(t, s.RenameMailbox(ctx, u.ID, "A", "Z/Y"))
		wantSubs(t, s, u, "AX", "INBOX", "Q", "Z/Y", "Z/Y/B", "Z/Y/B/C")
		if !mailbox(t, s, u, "Z/Y").Subscribed || !mailbox(t, s, u, "Z/Y/B").Subscribed || mailbox(t, s, u, "Z").Subscribed {
			t.Fatal("Z/Y and Z/Y/B must be subscribed, Z not")
		}
		// A mailbox renamed to a subscribed name is subscribed.
		must(t, s.RenameMailbox(ctx, u.ID, "R", "Q"))
		if !mailbox(t, s, u, "Q").Subscribed {
			t.Fatal("R renamed to the subscribed name Q: not subscribed")
		}
		wantSubs(t, s, u, "AX", "INBOX", "Q", "Z/Y", "Z/Y/B", "Z/Y/B/C")
		// Renaming INBOX leaves INBOX (and its subscription) in place.
		must(t, s.RenameMailbox(ctx, u.ID, "INBOX", "Old"))
		if !mailbox(t, s, u, store.Inbox).Subscribed || mailbox(t, s, u, "Old").Subscribed {
			t.Fatal("after renaming INBOX: INBOX must stay subscribed, Old not")
		}
		wantSubs(t, s, u, "AX", "INBOX", "Q", "Z/Y", "Z/Y/B", "Z/Y/B/C")
	})

	t.Run("Limit", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "Last", ""))
		// Fill the subscriptions up through an import, which restores a
		// snapshot's subscriptions without a bound.
		snap, err := s.ExportUser(ctx, u.ID)
		must(t, err)
		for i := len(snap.Subscriptions); i < store.MaxSubscriptions; i++ {
			snap.Subscriptions = append(snap.Subscriptions, fmt.Sprintf("Gone/%05d", i))
		}
		must(t, s.ImportUser(ctx, snap))
		subs, err := s.Subscriptions(ctx, u.ID)
		must(t, err)
		if len(subs) != store.MaxSubscriptions {
			t.Fatalf("%d subscriptions after import, want %d", len(subs), store.MaxSubscriptions)
		}
		wantErr(t, s.SetSubscribed(ctx, u.ID, "Last", true), store.ErrLimit, "subscription past the limit")
		must(t, s.SetSubscribed(ctx, u.ID, "INBOX", true)) // subscribed already: no change
		must(t, s.SetSubscribed(ctx, u.ID, "Gone/00100", false))
		must(t, s.SetSubscribed(ctx, u.ID, "Last", true))
		wantErr(t, s.SetSubscribed(ctx, u.ID, "Gone/00100", true), store.ErrNotFound, "subscribe a gone name")
	})

	t.Run("OldSnapshot", func(t *testing.T) {
		// A snapshot without Subscriptions subscribes the mailboxes it
		// says are subscribed.
		s, ctx := open(t), ctxFor(t)
		u := newUser(t, s, "a")
		must(t, s.CreateMailbox(ctx, u.ID, "Gone", ""))
		must(t, s.SetSubscribed(ctx, u.ID, "Gone", true))
		must(t, s.DeleteMailbox(ctx, u.ID, "Gone"))
		must(t, s.SetSubscribed(ctx, u.ID, "Junk", false))
		snap, err := s.ExportUser(ctx, u.ID)
		must(t, err)
		if !slices.Equal(snap.Subscriptions, []string{"Archive", "Drafts", "Gone", "INBOX", "Sent", "Trash"}) {
			t.Fatalf("exported subscriptions %q", snap.Subscriptions)
		}
		snap.Subscriptions = nil
		must(t, s.ImportUser(ctx, snap))
		wantSubs(t, s, u, "Archive", "Drafts", "INBOX", "Sent", "Trash")
	})
}

// wantSubs checks userID's Subscriptions and that every mailbox's
// Subscribed agrees with them.
func wantSubs(t *testing.T, s store.Store, u store.User, want ...string) {
	t.Helper()
	ctx := ctxFor(t)
	got, err := s.Subscriptions(ctx, u.ID)
	must(t, err)
	if len(got) != len(want) || !slices.Equal(got, want) {
		t.Fatalf("Subscriptions = %q, want %q", got, want)
	}
	mbs, err := s.ListMailboxes(ctx, u.ID)
	must(t, err)
	for _, mb := range mbs {
		if _, in := slices.BinarySearch(got, mb.Name); in != mb.Subscribed {
			t.Fatalf("mailbox %s: Subscribed %v, subscriptions %q", mb.Name, mb.Subscribed, got)
		}
		one := mailbox(t, s, u, mb.Name)
		if one.Subscribed != mb.Subscribed {
			t.Fatalf("mailbox %s: Mailbox().Subscribed %v, ListMailboxes %v", mb.Name, one.Subscribed, mb.Subscribed)
		}
	}
}
