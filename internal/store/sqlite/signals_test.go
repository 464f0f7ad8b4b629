package sqlite

import (
	"testing"
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
