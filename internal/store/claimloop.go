package store

import (
	"context"
	"log/slog"
	"time"
)

// ClaimLoop is the loop of a queue consumer (the delivery worker, the
// outbound sender): it claims one job at a time of queue until ctx ends
// and hands what it got to process. Jobs run on a context that ignores
// ctx's cancellation (their lease bounds them), so a shutdown never leaves
// half a job to redo; jobs leased just before ctx ended are still run.
// Claim failures are logged and retried with a growing pause. idle, when
// not nil, runs after a claim that found nothing.
func ClaimLoop(ctx context.Context, q Queue, queue, consumer string, wait, lease time.Duration,
	log *slog.Logger, idle func(context.Context), process func(context.Context, []Job)) {
	work := context.WithoutCancel(ctx)
	pause := time.Second
	for ctx.Err() == nil {
		jobs, err := q.Claim(ctx, queue, consumer, 1, wait, lease)
		if ctx.Err() != nil {
			if err == nil {
				process(work, jobs)
			}
			return
		}
		if err != nil {
			log.LogAttrs(ctx, slog.LevelError, "claim failed", slog.String("error", err.Error()))
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			pause = min(2*pause, time.Minute)
			continue
		}
		pause = time.Second
		if len(jobs) == 0 && idle != nil {
			idle(ctx)
			continue
		}
		process(work, jobs)
	}
}
