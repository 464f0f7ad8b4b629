package worker

import (
	"context"
	"log/slog"
	"sync"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Worker delivers the jobs of the inbound queue.
type Worker struct {
	cfg Config
	log *slog.Logger
	// ensured holds the IDs of users whose default mailboxes this process
	// has made sure of: once is enough, and it saves a write per delivery.
	ensured sync.Map
	// scripts caches compiled Sieve scripts by their text (sieve.go).
	scripts scriptCache
	// activeScripts caches the recipients' active scripts for
	// cfg.SieveTTL (sieveactive.go).
	activeScripts activeCache
	// objects holds the buffers messages are read into (summarize).
	objects sync.Pool
}

// New returns a Worker; nothing runs until Run.
func New(cfg Config) *Worker {
	cfg = cfg.withDefaults()
	return &Worker{cfg: cfg, log: cfg.Log.With(slog.String("role", "worker"))}
}

// Run runs Concurrency delivery loops until ctx ends. It then stops
// claiming, lets the jobs in flight finish and returns nil.
//
// With Config.Drain it also returns, with nil, once the queues are empty
// and nothing is in flight: the loops then stop as if ctx had ended.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	d := &drainer{w: w, stop: stop}
	for range w.cfg.Concurrency {
		wg.Go(func() { w.loop(ctx, d) })
	}
	wg.Wait()
	return nil
}

// loop claims and delivers inbound jobs until ctx ends (store.ClaimLoop).
func (w *Worker) loop(ctx context.Context, d *drainer) {
	var idle func(context.Context)
	if w.cfg.Drain {
		idle = d.check
	}
	store.ClaimLoop(ctx, w.cfg.Store, store.LoopConfig{
		Queue: store.QueueInbound, Consumer: w.cfg.Consumer, Wait: claimWait, Lease: w.cfg.Lease,
		Budget: w.cfg.JobTimeout, Log: w.log, Idle: idle, Process: w.process,
	})
}
