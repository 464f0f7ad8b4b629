package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Worker delivers the jobs of the inbound queue.
type Worker struct {
	cfg Config
	log *slog.Logger
	// ensured holds the IDs of users whose default mailboxes this process
	// has made sure of: once is enough, and it saves a write per delivery.
	ensured sync.Map
}

// New returns a Worker; nothing runs until Run.
func New(cfg Config) *Worker {
	cfg = cfg.withDefaults()
	return &Worker{cfg: cfg, log: cfg.Log.With(slog.String("role", "worker"))}
}

// Run runs Concurrency delivery loops, and the reconciler and snapshotter
// if configured, until ctx ends. It then stops claiming, lets the jobs in
// flight finish and returns nil.
//
// With Config.Drain it also returns, with nil, once the queues are empty
// and nothing is in flight: the loops and the reconciler and snapshotter
// then stop as if ctx had ended.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	d := &drainer{w: w, stop: stop}
	for range w.cfg.Concurrency {
		wg.Go(func() { w.loop(ctx, d) })
	}
	if r := w.cfg.Reconciler; r != nil {
		wg.Go(func() { _ = r.Run(ctx) }) // returns nil when ctx ends; it logs its failures
	}
	if s := w.cfg.Snapshotter; s != nil {
		wg.Go(func() { _ = s.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// loop claims one job at a time and processes it. A job in flight is not
// cut short by ctx: it runs on a context that ignores cancellation (the
// lease bounds it), so a shutdown never leaves half a delivery to redo.
func (w *Worker) loop(ctx context.Context, d *drainer) {
	work := context.WithoutCancel(ctx)
	pause := time.Second
	for ctx.Err() == nil {
		jobs, err := w.cfg.Store.Claim(ctx, store.QueueInbound, w.cfg.Consumer, 1, claimWait, w.cfg.Lease)
		if ctx.Err() != nil {
			// Claim may have leased jobs just before ctx ended: process them.
			if err == nil {
				w.processAll(work, jobs)
			}
			return
		}
		if err != nil {
			w.log.LogAttrs(ctx, slog.LevelError, "claim failed", slog.String("error", err.Error()))
			sleep(ctx, pause)
			pause = min(2*pause, time.Minute)
			continue
		}
		pause = time.Second
		if len(jobs) == 0 && w.cfg.Drain {
			d.check(ctx)
			continue
		}
		w.processAll(work, jobs)
	}
}

func (w *Worker) processAll(ctx context.Context, jobs []store.Job) {
	for _, j := range jobs {
		jctx, cancel := context.WithTimeout(ctx, w.cfg.Lease)
		w.process(jctx, j)
		cancel()
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
