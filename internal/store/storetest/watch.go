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
	drain(ch)
	drain(other)

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
