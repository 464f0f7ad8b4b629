package imapgw

import (
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestListingReadsNoBodies proves invariant 5: listing a mailbox, its
// headers and header searches are served from the index; only body
// sections read the blob store.
func TestListingReadsNoBodies(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	env.deliver(t, a, "INBOX", "Delivered-To: alice@example.org\r\n", plainMsg)
	env.deliver(t, a, "INBOX", "", multipartMsg)
	c := env.dial(t, a, nil)
	appendMsg(t, c, "INBOX", lunchMsg, nil)
	mustSelect(t, c, "INBOX", false)
	before := env.blobs.Gets()

	var all imap.UIDSet
	all.AddRange(1, 0)
	msgs, err := c.Fetch(all, &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true, RFC822Size: true, InternalDate: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
	}).Collect()
	if err != nil || len(msgs) != 3 {
		t.Fatalf("listing FETCH: %d messages, %v", len(msgs), err)
	}
	for _, m := range msgs {
		if m.Envelope == nil || m.BodyStructure == nil || m.RFC822Size == 0 || m.InternalDate.IsZero() {
			t.Errorf("incomplete listing of UID %d: %+v", m.UID, m)
		}
	}
	hdrs := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject", "From"}, Peek: true}
	if _, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{hdrs}}).Collect(); err != nil {
		t.Fatal(err)
	}
	for _, crit := range []imap.SearchCriteria{hdr("From", "carol"), hdr("Subject", "lunch"),
		hdr("Delivered-To", "alice"), {SentSince: day(2024, 1, 1)}, {Larger: 10}, {NotFlag: []imap.Flag{imap.FlagSeen}}} {
		if _, err := c.UIDSearch(&crit, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if got := env.blobs.Gets() - before; got != 0 {
		t.Fatalf("listing read %d message objects, want 0", got)
	}

	// The counter does count: a body fetch and a body search read objects.
	sec := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true}
	fetchOne(t, c, 1, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{sec}})
	if env.blobs.Gets() == before {
		t.Fatal("BODY[TEXT] read no object")
	}
	if _, err := c.UIDSearch(&imap.SearchCriteria{Body: []string{"pizza"}}, nil).Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTenantIsolation checks invariant 6 at the protocol: bob cannot reach
// alice's mailboxes by any name.
func TestTenantIsolation(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	env.deliver(t, a, "INBOX", "", plainMsg)
	ca := env.dial(t, a, nil)
	if err := ca.Create("Secret", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	cb := env.dial(t, "bob@example.org", nil)

	for _, name := range []string{"Secret", "alice@example.org/INBOX", "../alice/INBOX", env.users[a].ID + "/INBOX"} {
		if _, err := cb.Select(name, nil).Wait(); err == nil {
			t.Errorf("bob selected %q", name)
		}
		if _, err := cb.Status(name, &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
			t.Errorf("bob got STATUS of %q", name)
		}
	}
	l, err := cb.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range l {
		names = append(names, d.Mailbox)
	}
	if slices.Contains(names, "Secret") || len(names) != 6 {
		t.Errorf("bob's LIST = %v", names)
	}
	// Bob's INBOX is his own: empty.
	if sel := mustSelect(t, cb, "INBOX", false); sel.NumMessages != 0 {
		t.Errorf("bob's INBOX has %d messages", sel.NumMessages)
	}
	if _, err := cb.Copy(imap.SeqSetNum(1), "Secret").Wait(); imapCode(err) != imap.ResponseCodeTryCreate {
		t.Errorf("bob copied into alice's mailbox")
	}
}

// BenchmarkListingFetch is a mail client opening a 1,000-message mailbox:
// UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE RFC822.SIZE INTERNALDATE).
func BenchmarkListingFetch(b *testing.B) {
	env := newEnv(b)
	a := "alice@example.org"
	for i := range 1000 {
		raw := plainMsg
		if i%2 == 1 {
			raw = multipartMsg
		}
		env.deliver(b, a, "INBOX", "Delivered-To: alice@example.org\r\n", raw)
	}
	c := env.dial(b, a, nil)
	mustSelect(b, c, "INBOX", true)
	var all imap.UIDSet
	all.AddRange(1, 0)
	options := &imap.FetchOptions{UID: true, Flags: true, Envelope: true, RFC822Size: true, InternalDate: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}
	for b.Loop() {
		msgs, err := c.Fetch(all, options).Collect()
		if err != nil || len(msgs) != 1000 {
			b.Fatalf("%d messages, %v", len(msgs), err)
		}
	}
	if env.blobs.Gets() != 0 {
		b.Fatalf("listing read %d objects", env.blobs.Gets())
	}
}
