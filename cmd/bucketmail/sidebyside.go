package main

import (
	"context"
	"sync"
)

// sideBySide runs the roles of a worker process together: lead (the
// inbound worker, which decides when the process is done: its context
// ended, or --drain found the queues empty) and beside it the others (the
// outbound sender, the reconciler, the snapshotter), each until lead
// returns. Each finishes its work in flight before it returns; the
// function returns lead's error once all have.
func sideBySide(lead func(context.Context) error, others ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		octx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, run := range others {
			wg.Go(func() { _ = run(octx) }) // each returns nil when octx ends; it logs its failures
		}
		err := lead(ctx)
		cancel()
		wg.Wait()
		return err
	}
}
