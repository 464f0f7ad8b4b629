package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Results counted in metrics.Deliveries and logged.
const (
	resultDelivered = "delivered"
	resultDuplicate = "duplicate"
	resultRetry     = "retry"
	resultDead      = "dead"
	resultUnknown   = "unknown_recipient" // recipient gone since RCPT TO (then bounced or refused)
	resultForwarded = "forwarded"         // a copy queued for a foreign alias target
	resultReturned  = "returned"          // a bounce to an SRS address queued back to the original sender
	resultRefused   = "refused"           // not delivered, and no DSN: null or unverified sender
)

// process delivers one job and settles it: Ack when every recipient is
// done, Retry with backoff on a temporary failure, Bury on a permanent one
// or after store.MaxAttempts attempts. A job whose context ended (its
// budget ran out, its lease was lost) is left to the claim loop.
func (w *Worker) process(ctx context.Context, j store.Job) {
	if j.Attempts > store.MaxAttempts {
		w.bury(ctx, j, fmt.Sprintf("gave up after %d attempts: %s", j.Attempts-1, j.LastError))
		return
	}
	err := w.deliver(ctx, j)
	if ctx.Err() != nil {
		w.log.LogAttrs(ctx, slog.LevelWarn, "delivery stopped", slog.String("queue_id", j.ID),
			slog.Int("attempts", j.Attempts), slog.String("cause", context.Cause(ctx).Error()))
		return
	}
	switch {
	case err == nil:
		if err := w.cfg.Store.Ack(ctx, j); err != nil {
			// The lease runs out and the job comes back; delivery is
			// idempotent, so that costs only time.
			w.jobLog(ctx, slog.LevelError, j, "ack failed", err)
		}
	case fault.IsPermanent(err):
		w.bury(ctx, j, err.Error())
	case j.Attempts >= store.MaxAttempts:
		w.bury(ctx, j, fmt.Sprintf("gave up after %d attempts: %v", j.Attempts, err))
	default:
		delay := w.backoff(j.Attempts)
		w.count(resultRetry)
		w.jobLog(ctx, slog.LevelWarn, j, "delivery deferred", err, slog.Duration("retry_in", delay))
		if err := w.cfg.Store.Retry(ctx, j, time.Now().Add(delay), err.Error()); err != nil {
			w.jobLog(ctx, slog.LevelError, j, "retry failed", err)
		}
	}
}

func (w *Worker) bury(ctx context.Context, j store.Job, reason string) {
	w.count(resultDead)
	w.log.LogAttrs(ctx, slog.LevelError, "delivery failed permanently",
		slog.String("queue_id", j.ID), slog.Int("attempts", j.Attempts), slog.String("reason", reason))
	if err := w.cfg.Store.Bury(ctx, j, reason); err != nil {
		w.jobLog(ctx, slog.LevelError, j, "bury failed", err)
	}
}

// backoff is the delay before the next try (store.Backoff from RetryBase
// to RetryMax).
func (w *Worker) backoff(attempts int) time.Duration {
	return store.Backoff(w.cfg.RetryBase, w.cfg.RetryMax, attempts)
}

func (w *Worker) count(result string) {
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.Deliveries.WithLabelValues(result).Inc()
	}
}

func (w *Worker) jobLog(ctx context.Context, level slog.Level, j store.Job, msg string, err error, attrs ...slog.Attr) {
	attrs = append([]slog.Attr{
		slog.String("queue_id", j.ID), slog.Int("attempts", j.Attempts), slog.String("error", err.Error()),
	}, attrs...)
	w.log.LogAttrs(ctx, level, msg, attrs...)
}
