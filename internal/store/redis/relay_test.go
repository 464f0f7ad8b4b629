package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRelayOneBlocker: of many idle Claims on one stream only one runs the
// blocking read at a time; when it returns, one waiter gets the turn, and
// waiters whose time is up return by themselves.
func TestRelayOneBlocker(t *testing.T) {
	r := newRelay()
	var inBlock, maxIn, blocks atomic.Int32
	release := make(chan struct{})
	block := func() error {
		blocks.Add(1)
		n := inBlock.Add(1)
		for {
			m := maxIn.Load()
			if n <= m || maxIn.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		inBlock.Add(-1)
		return nil
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	returned := make(chan struct{}, 10)
	for range 10 {
		wg.Go(func() {
			r.wait(ctx, "s", time.Hour, block)
			returned <- struct{}{}
		})
	}
	// Let them all arrive: one blocks, nine wait.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		n := 0
		r.mu.Lock()
		if st := r.streams["s"]; st != nil {
			n = len(st.waiters)
		}
		r.mu.Unlock()
		if n == 9 || time.Now().After(deadline) {
			break
		}
	}
	release <- struct{}{} // the blocker returns and hands the turn to one waiter
	<-returned
	<-returned
	select {
	case <-returned:
		t.Fatal("a third Claim returned after one blocking read")
	case <-time.After(50 * time.Millisecond):
	}
	if got := maxIn.Load(); got != 1 {
		t.Errorf("%d blocking reads at once, want 1", got)
	}
	close(release) // from now on blocking reads return at once
	// The rest are still waiting; give each the turn in turn.
	r.mu.Lock()
	for _, st := range r.streams {
		for len(st.waiters) > 0 {
			r.wakeLocked(st)
		}
	}
	r.mu.Unlock()
	wg.Wait()
	if b := blocks.Load(); b != 1 {
		t.Errorf("%d blocking reads, want 1", b)
	}

	// A waiter whose time is up returns without the turn.
	r3 := newRelay()
	hold := make(chan struct{})
	go r3.wait(ctx, "s", time.Hour, func() error { <-hold; return nil })
	for {
		r3.mu.Lock()
		st := r3.streams["s"]
		busy := st != nil && st.blocking
		r3.mu.Unlock()
		if busy {
			break
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	r3.wait(ctx, "s", 20*time.Millisecond, func() error { t.Error("a second blocking read"); return nil })
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("the waiter returned after %v, before its time", d)
	}
	close(hold)
}
