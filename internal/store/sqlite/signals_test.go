package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestSignalsWakeOne: a fire wakes one waiter, the oldest; a waiter that
// leaves after being woken passes the wake-up on; one that leaves unwoken
// takes none with it.
func TestSignalsWakeOne(t *testing.T) {
	s := newSignals()
	a, b, c := s.wait("q"), s.wait("q"), s.wait("q")
	s.fire("q")
	if !closed(a) || closed(b) || closed(c) {
		t.Fatalf("one fire: woken %v %v %v, want only the first", closed(a), closed(b), closed(c))
	}
	s.release("q", b) // leaves unwoken
	s.fire("q")
	if !closed(c) {
		t.Fatal("the second fire did not reach the remaining waiter")
	}
	d := s.wait("q")
	e := s.wait("q")
	s.fire("q")       // wakes d
	s.release("q", d) // which leaves without acting on it
	if !closed(e) {
		t.Fatal("a wake-up given back was not passed on")
	}
	s.fire("q") // nobody waits: nothing happens, nothing is kept
	f := s.wait("q")
	if closed(f) {
		t.Fatal("a fire with no waiter woke a later one")
	}
	s.release("q", f)
	if len(s.waiters["q"]) != 0 {
		t.Fatalf("%d waiters left", len(s.waiters["q"]))
	}
}

// TestOnePollerPerQueue: of the Claims waiting on a queue, one polls for
// jobs that another process enqueues (no signal reaches this one), and
// finds them; the others only wait.
func TestOnePollerPerQueue(t *testing.T) {
	s := newSignals()
	if !s.takePoll("q") || s.takePoll("q") || !s.takePoll("other") {
		t.Fatal("a second poller of one queue was let in, or the first of another was not")
	}
	s.givePoll("q")
	if !s.takePoll("q") {
		t.Fatal("the poll was not given back")
	}

	path := filepath.Join(t.TempDir(), "q.db")
	consumer, producer := openFile(t, path), openFile(t, path) // two processes
	ctx := t.Context()
	got := make(chan []store.Job, 8)
	for i := range 8 {
		go func() {
			jobs, err := consumer.Claim(ctx, "q", fmt.Sprint("c", i), 1, 3*time.Second, time.Minute)
			if err != nil {
				t.Error(err)
			}
			got <- jobs
		}()
	}
	time.Sleep(200 * time.Millisecond) // all eight wait, none found anything
	if err := producer.Enqueue(ctx, store.Job{ID: "j1", Queue: "q", BlobKey: "k", From: "a@b", To: []string{"c@d"}}); err != nil {
		t.Fatal(err)
	}
	claimed := 0
	for range 8 {
		for _, j := range <-got {
			if j.ID != "j1" {
				t.Fatalf("claimed %q", j.ID)
			}
			claimed++
		}
	}
	if claimed != 1 {
		t.Fatalf("job claimed %d times, want once", claimed)
	}
}
