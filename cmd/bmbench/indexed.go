package main

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// settleLimit bounds how long a scenario waits for the target's
// background work.
const settleLimit = 2 * time.Minute

// awaitIndexed waits, before a scenario, until a bucketmail target (one with a
// /metrics URL) has no message text left to index: the search index is
// built in idle time (docs/architecture.md), and a backlog left by the
// seeding or by the scenario before would take CPU from the one measured.
// Each scenario then measures its own work, as on a server at rest. It
// does nothing for a target without /metrics.
func awaitIndexed(ctx context.Context, cfg *config, scenario string) error {
	if cfg.metrics == "" {
		return nil
	}
	start := time.Now()
	for {
		pending, found := 0.0, false
		err := metricLines(ctx, cfg.metrics, func(line string) {
			if strings.HasPrefix(line, "bucketmail_search_pending ") {
				pending, found = value(line), true
			}
		})
		if err != nil {
			return err
		}
		if !found || pending == 0 {
			if waited := time.Since(start); waited > time.Second {
				slog.Info("indexed", "target", cfg.target, "before", scenario, "waited", waited.Round(time.Millisecond))
			}
			return nil
		}
		if time.Since(start) > settleLimit {
			slog.Warn("still indexing; measuring anyway", "target", cfg.target, "before", scenario, "pending", pending)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
