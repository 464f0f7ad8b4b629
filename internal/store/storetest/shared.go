package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// testClaimExclusive runs consumers on a and b at once: every job must be
// claimed exactly once.
func testClaimExclusive(t *testing.T, a, b store.Store) {
	ctx := ctxFor(t)
	const jobs, consumers = 60, 6
	for i := range jobs {
		must(t, a.Enqueue(ctx, job(fmt.Sprintf("X%03d", i))))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, consumers)
	for c := range consumers {
		q := a
		if c%2 == 1 {
			q = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := q.Claim(ctx, store.QueueInbound, fmt.Sprint("c", c), 3, 200*time.Millisecond, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				for _, j := range got {
					mu.Lock()
					seen[j.ID]++
					mu.Unlock()
					if err := q.Ack(ctx, j); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != jobs {
		t.Fatalf("%d distinct jobs claimed, want %d", len(seen), jobs)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("job %s claimed %d times", id, n)
		}
	}
	if st := stats(t, b); st != (store.QueueStats{}) {
		t.Fatalf("stats after all acked = %+v", st)
	}
}

func testSharedClaim(t *testing.T, openPair func(t *testing.T) (a, b store.Store)) {
	a, b := openPair(t)
	testClaimExclusive(t, a, b)
}

// testSharedVisibility checks that a change through one handle is seen
// through the other at once: no cache outlives a call.
func testSharedVisibility(t *testing.T, openPair func(t *testing.T) (a, b store.Store)) {
	a, b := openPair(t)
	ctx := ctxFor(t)
	u := newUser(t, a, "a")
	got, err := b.UserByAddress(ctx, "a@example.org")
	must(t, err)
	if got.ID != u.ID {
		t.Fatalf("second handle sees user %+v, want %+v", got, u)
	}
	must(t, a.SetPassword(ctx, "a@example.org", "new"))
	if got, _ := b.UserByID(ctx, u.ID); got.PasswordHash != "new" {
		t.Fatalf("second handle sees stale password %q", got.PasswordHash)
	}
	inbox := mailbox(t, b, u, "INBOX")
	uid := insert(t, b, u, inbox, msg(5))
	if mb := mailbox(t, a, u, "INBOX"); mb.Messages != 1 || mb.UIDNext != uid+1 {
		t.Fatalf("first handle sees %+v", mb)
	}
	// UIDs allocated through both handles never collide.
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, _, err := s.InsertMessage(ctx, u.ID, inbox.ID, "", msg(1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	all := uids(t, a, u, inbox)
	if len(all) != 41 {
		t.Fatalf("%d messages after concurrent inserts, want 41", len(all))
	}
	if mb := mailbox(t, b, u, "INBOX"); mb.Messages != 41 || mb.Size != 5+40 {
		t.Fatalf("counters after concurrent inserts: %+v", mb)
	}
}

// testSharedWatch checks that a change made through one handle wakes a
// Watch on the other.
func testSharedWatch(t *testing.T, openPair func(t *testing.T) (a, b store.Store)) {
	a, b := openPair(t)
	ctx := ctxFor(t)
	u := newUser(t, a, "a")
	ch := b.Watch(ctx, u.ID)
	drain(ch)
	inbox := mailbox(t, a, u, "INBOX")
	uid := insert(t, a, u, inbox, msg(1))
	waitSignal(t, ch, "insert through the other handle")
	_, err := a.SetFlags(ctx, u.ID, inbox.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagSeen})
	must(t, err)
	waitSignal(t, ch, "flags through the other handle")
}
