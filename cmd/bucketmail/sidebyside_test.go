package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// TestSideBySide: the other roles run while the lead runs, stop when it
// returns, and are waited for; the lead's error is the result.
func TestSideBySide(t *testing.T) {
	var started, stopped atomic.Int32
	const others = 3
	ready := make(chan struct{}, others)
	other := func(ctx context.Context) error {
		started.Add(1)
		ready <- struct{}{}
		<-ctx.Done()
		stopped.Add(1)
		return nil
	}
	errLead := errors.New("lead done")
	lead := func(ctx context.Context) error {
		for range others {
			<-ready // every other role runs beside the lead
		}
		if ctx.Err() != nil {
			t.Error("the lead's context ended early")
		}
		return errLead
	}
	run := sideBySide(lead, other, other, other)
	if err := run(t.Context()); !errors.Is(err, errLead) {
		t.Errorf("run = %v, want the lead's error", err)
	}
	if started.Load() != others || stopped.Load() != others {
		t.Errorf("started %d, stopped %d before run returned; want %d each", started.Load(), stopped.Load(), others)
	}
}
