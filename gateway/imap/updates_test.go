package imapgw

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// updates records unilateral responses, as a mail client would see them.
type updates struct {
	mu       sync.Mutex
	exists   []uint32
	expunges []uint32
	flags    map[uint32][]imap.Flag // by sequence number
}

func (u *updates) handler() *imapclient.UnilateralDataHandler {
	u.flags = map[uint32][]imap.Flag{}
	return &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				u.mu.Lock()
				u.exists = append(u.exists, *d.NumMessages)
				u.mu.Unlock()
			}
		},
		Expunge: func(seq uint32) {
			u.mu.Lock()
			u.expunges = append(u.expunges, seq)
			u.mu.Unlock()
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			buf, err := msg.Collect()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.flags[buf.SeqNum] = buf.Flags
			u.mu.Unlock()
		},
	}
}

func (u *updates) lastExists() uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.exists) == 0 {
		return 0
	}
	return u.exists[len(u.exists)-1]
}

func TestIdleSeesDeliveryWithinASecond(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	env.deliver(t, a, "INBOX", "", plainMsg)
	var u updates
	c := env.dial(t, a, u.handler())
	mustSelect(t, c, "INBOX", false)
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	// A delivery by "another process": straight into the store, from
	// another goroutine. EXISTS must follow within a second of the insert.
	delivered := make(chan error, 1)
	go func() {
		_, err := env.tryDeliver(a, "INBOX", "", multipartMsg, time.Now())
		delivered <- err
	}()
	if err := <-delivered; err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "EXISTS 2 during IDLE", func() bool { return u.lastExists() == 2 })
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	m := fetchOne(t, c, 2, &imap.FetchOptions{Envelope: true})
	if m.SeqNum != 2 || m.Envelope.Subject != "Photos été" {
		t.Errorf("new message: seq %d subject %q", m.SeqNum, m.Envelope.Subject)
	}
}

func TestOtherSessionsChangesAtNoop(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	for range 3 {
		env.deliver(t, a, "INBOX", "", plainMsg)
	}
	var u updates
	c1 := env.dial(t, a, u.handler())
	mustSelect(t, c1, "INBOX", false)
	c2 := env.dial(t, a, nil)
	mustSelect(t, c2, "INBOX", false)

	// Flag change by the other session.
	if err := c2.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	// imapclient hands unilateral FETCH data to the handler asynchronously.
	waitFor(t, time.Second, "FETCH FLAGS update", func() bool {
		u.mu.Lock()
		defer u.mu.Unlock()
		return slices.Contains(u.flags[2], imap.FlagFlagged)
	})
	u.mu.Lock()
	if len(u.flags) != 1 {
		t.Errorf("flag updates for %d messages, want 1: %v", len(u.flags), u.flags)
	}
	u.mu.Unlock()

	// Expunge by the other session: not during FETCH, then at NOOP.
	if err := c2.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c1.Fetch(imap.SeqSetNum(3), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].UID != 3 {
		t.Errorf("FETCH 3 before EXPUNGE is reported: %v, %v", msgs, err)
	}
	u.mu.Lock()
	if len(u.expunges) != 0 {
		t.Errorf("EXPUNGE sent during FETCH: %v", u.expunges)
	}
	u.mu.Unlock()
	if err := c1.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	if !slices.Equal(u.expunges, []uint32{1}) {
		t.Errorf("expunges at NOOP: %v, want [1]", u.expunges)
	}
	u.mu.Unlock()
	msgs, err = c1.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 2 || msgs[0].UID != 2 || msgs[1].UID != 3 {
		t.Errorf("after EXPUNGE update: %v, %v", msgs, err)
	}

	// A new message appended by the other session shows as EXISTS.
	appendMsg(t, c2, "INBOX", plainMsg, nil)
	if err := c1.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if got := u.lastExists(); got != 3 {
		t.Errorf("EXISTS after other's APPEND = %d, want 3", got)
	}
}

// watchCounting counts the Watch subscriptions sessions open.
type watchCounting struct {
	Store
	mu      sync.Mutex
	watches int
}

func (w *watchCounting) Watch(ctx context.Context, userID string) <-chan struct{} {
	w.mu.Lock()
	w.watches++
	w.mu.Unlock()
	return w.Store.Watch(ctx, userID)
}

func (w *watchCounting) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.watches
}

// TestIdleBeforeSelect: IDLE in the authenticated state has nothing to
// report and subscribes to nothing; once a mailbox is selected it does.
func TestIdleBeforeSelect(t *testing.T) {
	var wc *watchCounting
	env := newEnv(t, func(c *Config) {
		wc = &watchCounting{Store: c.Store}
		c.Store = wc
	})
	tr := rawLogin(t, env, "alice@example.org")
	tr.send("i1 IDLE")
	tr.expect("+ ")
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	tr.send("DONE")
	if line := tr.expect(""); line != "i1 OK IDLE completed" {
		t.Errorf("after DONE: %q; want only the tagged OK", line)
	}
	if n := wc.count(); n != 0 {
		t.Errorf("IDLE without a selected mailbox opened %d subscriptions", n)
	}
	tr.send("s SELECT INBOX")
	tr.expect("s OK")
	tr.send("i2 IDLE")
	tr.expect("+ ")
	waitFor(t, time.Second, "a subscription", func() bool { return wc.count() == 1 })
	env.deliver(t, "alice@example.org", "INBOX", "", lunchMsg)
	tr.expect("* 2 EXISTS")
	tr.send("DONE")
	tr.expect("i2 OK")
}
