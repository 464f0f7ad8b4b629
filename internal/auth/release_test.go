package auth

import (
	"testing"
	"time"
)

func TestMemReleaser(t *testing.T) {
	freed := make(chan struct{}, 10)
	r := &memReleaser{every: time.Hour, free: func() { freed <- struct{}{} }}
	r.start()
	r.start()
	r.done()
	select {
	case <-freed:
		t.Fatal("released while a hash still runs")
	case <-time.After(50 * time.Millisecond):
	}
	r.done()
	select {
	case <-freed:
	case <-time.After(5 * time.Second):
		t.Fatal("no release after the last hash")
	}
	// The next one waits for every; several hashes meanwhile add no
	// other release.
	for range 3 {
		r.start()
		r.done()
	}
	r.mu.Lock()
	pending := r.timer
	r.mu.Unlock()
	if pending == nil {
		t.Fatal("no release scheduled after the second hash")
	}
	t.Cleanup(func() { pending.Stop() })
	select {
	case <-freed:
		t.Fatal("released again before every passed")
	case <-time.After(50 * time.Millisecond):
	}
	// A release due while a hash runs is left to that hash's end.
	r.start()
	r.release()
	r.mu.Lock()
	if r.timer != nil {
		t.Error("a release left a timer behind")
	}
	r.mu.Unlock()
	select {
	case <-freed:
		t.Fatal("released while a hash runs")
	default:
	}
}
