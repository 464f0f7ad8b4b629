package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LoopConfig configures ClaimLoop.
type LoopConfig struct {
	Queue    string
	Consumer string
	Wait     time.Duration // how long one Claim waits for a job
	Lease    time.Duration // renewed every Lease/3 while a job runs
	// Budget bounds one run of a job (0: none). At the budget the job's
	// context is cancelled, its lease is no longer renewed and the loop
	// retries it once after Budget; a job over budget twice in a row is
	// buried (DESIGN.md invariant 9: bounded work per input).
	Budget time.Duration
	Log    *slog.Logger
	// Idle, when not nil, runs after a claim that found nothing.
	Idle func(context.Context)
	// Process runs one job and settles it (Ack, Retry or Bury) unless its
	// context ended first.
	Process func(ctx context.Context, j Job)
}

// OverBudget starts the reason of a job retried for exceeding its budget.
const OverBudget = "over its time budget"

var (
	errOverBudget = errors.New("store: job over its time budget")
	errLost       = errors.New("store: job lease lost")
)

// ClaimLoop is the loop of a queue consumer (the delivery worker, the
// outbound sender): it claims one job at a time of cfg.Queue until ctx
// ends and runs it. Jobs run on a context that ignores ctx's cancellation
// (their budget bounds them), so a shutdown never leaves half a job to
// redo; jobs leased just before ctx ended are still run. While a job runs
// its holder renews the lease every third of it (a heartbeat), so the
// lease can be short and a dead holder's jobs come back soon. Claim
// failures are logged and retried with a growing pause.
func ClaimLoop(ctx context.Context, q Queue, cfg LoopConfig) {
	work := context.WithoutCancel(ctx)
	pause := time.Second
	for ctx.Err() == nil {
		jobs, err := q.Claim(ctx, cfg.Queue, cfg.Consumer, 1, cfg.Wait, cfg.Lease)
		if ctx.Err() != nil {
			if err == nil {
				runJobs(work, q, cfg, jobs)
			}
			return
		}
		if err != nil {
			cfg.Log.LogAttrs(ctx, slog.LevelError, "claim failed", slog.String("error", err.Error()))
			sleep(ctx, pause)
			pause = min(2*pause, time.Minute)
			continue
		}
		pause = time.Second
		if len(jobs) == 0 && cfg.Idle != nil {
			cfg.Idle(ctx)
			continue
		}
		runJobs(work, q, cfg, jobs)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func runJobs(ctx context.Context, q Queue, cfg LoopConfig, jobs []Job) {
	for _, j := range jobs {
		runJob(ctx, q, cfg, j)
	}
}

// runJob runs j under its budget with a heartbeat, and settles it if it
// went over the budget.
func runJob(ctx context.Context, q Queue, cfg LoopConfig, j Job) {
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if cfg.Budget > 0 {
		var stop context.CancelFunc
		jctx, stop = context.WithTimeoutCause(jctx, cfg.Budget, errOverBudget)
		defer stop()
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	settled := false
	wg.Go(func() { settled = heartbeat(jctx, done, q, cfg, j, cancel) })
	cfg.Process(jctx, j)
	close(done)
	wg.Wait()
	if !settled && context.Cause(jctx) == errOverBudget {
		overBudget(ctx, q, cfg, j)
	}
}

// heartbeat renews j's lease every third of it until done closes or jctx
// ends. A renewal refused because the job was claimed again, buried or
// settled cancels jctx: the job is not ours. At the budget it releases the
// job at once (overBudget), so that a handler slow to notice its
// cancellation is not run again before the retry delay; it reports that.
func heartbeat(jctx context.Context, done <-chan struct{}, q Queue, cfg LoopConfig, j Job, cancel context.CancelCauseFunc) (settled bool) {
	period := cfg.Lease / 3
	if period <= 0 {
		period = time.Hour
	}
	t := time.NewTicker(period)
	defer t.Stop()
	held := time.Now().Add(cfg.Lease) // about when the lease runs out
	for {
		select {
		case <-done:
			return false
		case <-jctx.Done():
			if context.Cause(jctx) != errOverBudget {
				return false
			}
			overBudget(context.WithoutCancel(jctx), q, cfg, j)
			return true
		case <-t.C:
		}
		// A slow store (a busy writer, a loaded machine) gets until the
		// lease runs out, not one period: giving up sooner lets it lapse.
		start := time.Now()
		rctx, stop := context.WithTimeout(jctx, max(time.Until(held), period))
		err := q.Renew(rctx, j, cfg.Lease)
		stop()
		switch {
		case err == nil:
			held = start.Add(cfg.Lease)
		case errors.Is(err, ErrNotFound):
			select {
			case <-done: // settled by the job itself meanwhile
			default:
				cfg.Log.LogAttrs(jctx, slog.LevelWarn, "job lease lost", slog.String("queue_id", j.ID),
					slog.Int("attempts", j.Attempts), slog.String("error", err.Error()))
				cancel(errLost)
			}
			return false
		case jctx.Err() == nil:
			// The lease has two more beats before it runs out.
			cfg.Log.LogAttrs(jctx, slog.LevelWarn, "renewing job lease", slog.String("queue_id", j.ID),
				slog.String("error", err.Error()))
		}
	}
}

// overBudget retries j once after cfg.Budget, or buries it if its last run
// was over budget too. A handler must not settle a job whose context
// ended (it would override this); one that acked first wins (the fence
// refuses this).
func overBudget(ctx context.Context, q Queue, cfg LoopConfig, j Job) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	reason := fmt.Sprintf("%s (%s)", OverBudget, cfg.Budget)
	again := strings.HasPrefix(j.LastError, OverBudget)
	var err error
	if again {
		reason += " twice"
		err = q.Bury(sctx, j, reason)
	} else {
		err = q.Retry(sctx, j, time.Now().Add(cfg.Budget), reason)
	}
	attrs := []slog.Attr{slog.String("queue_id", j.ID), slog.Int("attempts", j.Attempts), slog.Duration("budget", cfg.Budget)}
	switch {
	case errors.Is(err, ErrNotFound): // settled by its handler just in time
	case err != nil:
		cfg.Log.LogAttrs(ctx, slog.LevelError, "settling a job over budget", append(attrs, slog.String("error", err.Error()))...)
	case again:
		cfg.Log.LogAttrs(ctx, slog.LevelError, "job buried", append(attrs, slog.String("reason", reason))...)
	default:
		cfg.Log.LogAttrs(ctx, slog.LevelWarn, "job over budget; will retry once", attrs...)
	}
}
