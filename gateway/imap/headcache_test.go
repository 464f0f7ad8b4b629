package imapgw

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/store"
)

// mailboxes returns how many mailboxes the cache holds.
func (c *headCache) mailboxes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.boxes)
}

// headCounter is a store that counts its head listings: whole ones and
// what-changed-since ones.
type headCounter struct {
	Store
	mu           sync.Mutex
	whole, since int
}

func (h *headCounter) MessageHeads(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	h.mu.Lock()
	if changedSince == 0 {
		h.whole++
	} else {
		h.since++
	}
	h.mu.Unlock()
	return h.Store.MessageHeads(ctx, userID, mailboxID, first, last, changedSince)
}

func (h *headCounter) counts() (whole, since int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.whole, h.since
}

// TestHeadCacheFollowsChanges: sessions share the heads of a mailbox; what
// another session or another process changes (flags, new messages,
// expunges) shows in the next FETCH after the update poll, read as what
// changed since, not as a whole listing.
func TestHeadCacheFollowsChanges(t *testing.T) {
	var hc *headCounter
	env := newEnv(t, func(cfg *Config) {
		hc = &headCounter{Store: cfg.Store}
		cfg.Store = hc
	})
	for range 5 {
		env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	}
	a := env.dial(t, "alice@example.org", nil)
	defer a.Close()
	b := env.dial(t, "alice@example.org", nil)
	defer b.Close()
	fetchFlags := func(label string) map[imap.UID][]imap.Flag {
		t.Helper()
		msgs, err := a.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		out := map[imap.UID][]imap.Flag{}
		for _, m := range msgs {
			out[m.UID] = m.Flags
		}
		return out
	}
	mustSelect(t, a, "INBOX", false)
	mustSelect(t, b, "INBOX", false)
	if got := fetchFlags("first"); len(got) != 5 {
		t.Fatalf("first FETCH: %v", got)
	}
	whole, _ := hc.counts()

	// Another session changes flags; another process delivers.
	if err := b.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	if err := a.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	got := fetchFlags("after changes")
	if len(got) != 6 || !slices.Contains(got[2], imap.FlagFlagged) {
		t.Fatalf("after changes: %v", got)
	}

	// This session's own change, then an expunge by the other one.
	if err := a.Store(imap.UIDSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if got := fetchFlags("own change"); !slices.Contains(got[3], imap.FlagDeleted) {
		t.Fatalf("own change: %v", got)
	}
	if err := b.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	got = fetchFlags("after expunge")
	if _, ok := got[3]; ok || len(got) != 5 {
		t.Fatalf("after expunge: %v", got)
	}
	w, since := hc.counts()
	// The expunged head lingers in the cache (within headCache.trim's
	// slack) for sessions that have not reported the EXPUNGE: no whole
	// listing more.
	if w != whole || since == 0 {
		t.Errorf("head listings after the first FETCH: %d whole, %d since; want no whole one and some since", w-whole, since)
	}
}

// TestHeadCacheNewerThanView: a UID of a view may be newer than the
// mod-sequence the view is synced with; a lookup that misses asks again
// what changed, and a UID still missing then is expunged.
func TestHeadCacheNewerThanView(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	u := env.users["alice@example.org"]
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	mb, err := env.store.Mailbox(ctx, u.ID, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	c := newHeadCache(100)
	k := headKey{userID: u.ID, mailboxID: mb.ID, uidValidity: mb.UIDValidity}
	hs, err := c.heads(ctx, env.store, k, mb.HighestModSeq, false)
	if err != nil || len(hs) != 1 {
		t.Fatalf("heads = %v, %v", hs, err)
	}
	uid := env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	if hs, _ = c.heads(ctx, env.store, k, mb.HighestModSeq, false); findHead(hs, 0, uid) >= 0 {
		t.Fatal("a message newer than the cache's mod-sequence is there without asking")
	}
	if hs, err = c.heads(ctx, env.store, k, mb.HighestModSeq, true); err != nil || findHead(hs, 0, uid) < 0 || len(hs) != 2 {
		t.Fatalf("after asking again: %v, %v", hs, err)
	}
}

// TestHeadCacheBounded: the cache holds at most max heads, evicting the
// least recently used mailboxes, and never one larger than itself.
func TestHeadCacheBounded(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	u := env.users["alice@example.org"]
	names := []string{"A", "B", "C"}
	keys := map[string]headKey{}
	for i, name := range names {
		if err := env.store.CreateMailbox(ctx, u.ID, name, ""); err != nil {
			t.Fatal(err)
		}
		for range i + 2 { // A 2, B 3, C 4 messages
			env.deliver(t, "alice@example.org", name, "", plainMsg)
		}
		mb, err := env.store.Mailbox(ctx, u.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = headKey{userID: u.ID, mailboxID: mb.ID, uidValidity: mb.UIDValidity}
	}
	c := newHeadCache(6)
	load := func(name string, want int) {
		t.Helper()
		hs, err := c.heads(ctx, env.store, keys[name], 1, false)
		if err != nil || len(hs) != want {
			t.Fatalf("%s: %d heads, %v; want %d", name, len(hs), err, want)
		}
	}
	cached := func() (out []string) {
		for _, name := range names {
			c.mu.Lock()
			_, ok := c.boxes[keys[name]]
			c.mu.Unlock()
			if ok {
				out = append(out, name)
			}
		}
		return out
	}
	load("A", 2)
	load("B", 3)
	if got := cached(); !slices.Equal(got, []string{"A", "B"}) || c.held != 5 {
		t.Fatalf("cached %v (%d heads), want A B (5)", got, c.held)
	}
	load("A", 2) // A is now the most recently used
	load("C", 4) // 9 > 6: B goes
	if got := cached(); !slices.Equal(got, []string{"A", "C"}) || c.held != 6 {
		t.Fatalf("cached %v (%d heads), want A C (6)", got, c.held)
	}
	c.forget(keys["A"])
	if got := cached(); !slices.Equal(got, []string{"C"}) || c.held != 4 {
		t.Fatalf("after forget: cached %v (%d heads), want C (4)", got, c.held)
	}
	// C's 4 heads, of which all but one left the mailbox: within the
	// slack they stay; beyond it the entry goes.
	c.trim(keys["C"], 1)
	if got := cached(); !slices.Equal(got, []string{"C"}) {
		t.Fatalf("trim within the slack: cached %v, want C", got)
	}
	c.trim(keys["C"], 4-lingerSlack-1)
	if got := cached(); len(got) != 0 {
		t.Fatalf("trim beyond the slack: cached %v, want none", got)
	}
	small := newHeadCache(3)
	hs, err := small.heads(ctx, env.store, keys["C"], 1, false)
	if err != nil || len(hs) != 4 || small.mailboxes() != 0 || small.held != 0 {
		t.Fatalf("a mailbox larger than the cache: %d heads, %v, %d cached", len(hs), err, small.mailboxes())
	}
}

func TestMergeHeads(t *testing.T) {
	h := func(uid uint32, ms uint64) store.Message { return store.Message{UID: uid, ModSeq: ms} }
	old := []store.Message{h(1, 1), h(3, 5), h(5, 2)}
	got := mergeHeads(old, []store.Message{h(2, 6), h(3, 7), h(5, 1), h(9, 8)})
	want := []store.Message{h(1, 1), h(2, 6), h(3, 7), h(5, 2), h(9, 8)}
	if !slices.EqualFunc(got, want, func(a, b store.Message) bool { return a.UID == b.UID && a.ModSeq == b.ModSeq }) {
		t.Fatalf("merge = %v, want %v", got, want)
	}
	if old[1].ModSeq != 5 {
		t.Fatal("merge changed the old slice")
	}
}
