package redis

import (
	"context"
	"sync"
	"time"
)

// relay keeps one Claim per stream of this process blocked in XREAD; the
// other idle Claims wait in the process. XREAD BLOCK wakes every client
// blocked on a stream when one entry arrives, so with many idle worker
// loops each new job would cost every loop a claim script and a new XREAD,
// all but one for nothing. Here the blocked Claim, when XREAD returns,
// claims and hands the blocking to one waiting Claim, which claims too (a
// second entry may have come) and then blocks in turn: about two claim
// scripts per new job, however many loops there are.
type relay struct {
	mu      sync.Mutex
	streams map[string]*relayState
}

type relayState struct {
	blocking bool
	waiters  []chan struct{} // oldest first
}

func newRelay() *relay { return &relay{streams: map[string]*relayState{}} }

// wait runs block (an XREAD BLOCK of at most d) if no other Claim of this
// process blocks on stream, and else waits up to d to be handed the turn.
// Either way the caller then claims again.
func (r *relay) wait(ctx context.Context, stream string, d time.Duration, block func() error) error {
	r.mu.Lock()
	st := r.streams[stream]
	if st == nil {
		st = &relayState{}
		r.streams[stream] = st
	}
	if !st.blocking {
		st.blocking = true
		r.mu.Unlock()
		err := block()
		r.mu.Lock()
		st.blocking = false
		r.wakeLocked(st)
		r.mu.Unlock()
		return err
	}
	ch := make(chan struct{})
	st.waiters = append(st.waiters, ch)
	r.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, c := range st.waiters {
		if c == ch {
			st.waiters = append(st.waiters[:i:i], st.waiters[i+1:]...)
			return ctx.Err()
		}
	}
	// Handed the turn as the timer fired: pass it on rather than lose it.
	r.wakeLocked(st)
	return ctx.Err()
}

// wakeLocked gives the turn to the oldest waiter.
func (r *relay) wakeLocked(st *relayState) {
	if len(st.waiters) == 0 {
		return
	}
	close(st.waiters[0])
	st.waiters = st.waiters[1:]
}
