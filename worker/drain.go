package worker

import (
	"context"
	"log/slog"
	"sync"
)

// drainer ends a draining Run once every queue of Config.DrainQueues has no
// job pending, in flight or delayed. The queue's own counts are the test,
// not this process's: they include the jobs other workers hold (which may
// come back if those workers die) and the retries still to come, so a drain
// run leaves nothing behind that a later run would have to pick up soon.
type drainer struct {
	w    *Worker
	stop context.CancelFunc
	once sync.Once
}

// check is called by a loop whose Claim came back empty.
func (d *drainer) check(ctx context.Context) {
	w := d.w
	for _, q := range w.cfg.DrainQueues {
		st, err := w.cfg.Store.QueueStats(ctx, q)
		if err != nil {
			if ctx.Err() == nil {
				w.log.LogAttrs(ctx, slog.LevelWarn, "drain: queue stats failed",
					slog.String("queue", q), slog.String("error", err.Error()))
			}
			return // try again after the next empty Claim
		}
		if st.Pending+st.InFlight+st.Delayed > 0 {
			return
		}
	}
	d.once.Do(func() {
		w.log.LogAttrs(ctx, slog.LevelInfo, "queues drained", slog.Any("queues", w.cfg.DrainQueues))
		d.stop()
	})
}
