package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

func testWatch(t *testing.T, open func(t *testing.T) store.Store) {
	s, ctx := open(t), ctxFor(t)
	a, b := newUser(t, s, "a"), newUser(t, s, "b")
	wctx, cancel := context.WithCancel(ctx)
	ch := s.Watch(wctx, a.ID)
	other := s.Watch(wctx, b.ID)
	// A change of B's first: once its signal came, B's watch is fully set up
	// (a driver may wake a watcher once when its subscription is confirmed;
	// spurious wake-ups are allowed, cross-user ones after that are not).
	insert(t, s, b, mailbox(t, s, b, "INBOX"), msg(1))
	waitSignal(t, other, "B's own insert")
	settle(other)
	drain(ch)

	inbox := mailbox(t, s, a, "INBOX")
	uid := insert(t, s, a, inbox, msg(1))
	waitSignal(t, ch, "insert")
	_, err := s.SetFlags(ctx, a.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagSeen})
	must(t, err)
	waitSignal(t, ch, "set flags")
	must(t, s.CreateMailbox(ctx, a.ID, "New", ""))
	waitSignal(t, ch, "create mailbox")

	// Many changes while nobody reads leave one pending value, and never block.
	for range 3 {
		insert(t, s, a, inbox, msg(1))
	}
	waitSignal(t, ch, "burst")

	select {
	case <-other:
		t.Fatal("B's watch fired for A's changes")
	case <-time.After(300 * time.Millisecond):
	}

	cancel()
	deadline := time.After(notifyWithin)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch channel not closed after its context ended")
		}
	}
}

// settle consumes the values of ch until none came for a while: what one
// change of the user may still send (a driver may signal a change more than
// once) is gone before the test looks for signals that must not come.
func settle(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}
