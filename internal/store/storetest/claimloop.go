package storetest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// runs counts the runs of jobs by store.ClaimLoop handlers and the most
// that were running at once.
type runs struct {
	mu      sync.Mutex
	now     map[string]int
	total   map[string]int
	maxSame int // most concurrent runs of one job
}

func newRuns() *runs { return &runs{now: map[string]int{}, total: map[string]int{}} }

func (r *runs) start(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now[id]++
	r.total[id]++
	r.maxSame = max(r.maxSame, r.now[id])
}

func (r *runs) end(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now[id]--
}

func (r *runs) get(id string) (total, maxSame int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total[id], r.maxSame
}

// loops runs n claim loops on q with cfg until the test ends.
func loops(t *testing.T, q store.Queue, n int, cfg store.LoopConfig) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		c := cfg
		c.Consumer = cfg.Consumer + string(rune('a'+i))
		wg.Go(func() { store.ClaimLoop(ctx, q, c) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func testClaimLoop(t *testing.T, open func(t *testing.T) store.Store) {
	log := slog.New(slog.DiscardHandler)

	// A job that runs for two and a half leases stays with its first
	// holder, whose heartbeat renews the lease: never a second run. (The
	// lease is long enough for a machine loaded by the whole race-enabled
	// suite to renew in time: 2 s was not, one run in some dozens.)
	t.Run("HeartbeatKeepsLongJob", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("LONG")))
		r := newRuns()
		const lease = 4 * time.Second
		var acked atomic.Bool
		loops(t, s, 3, store.LoopConfig{Queue: store.QueueInbound, Consumer: "w", Wait: 50 * time.Millisecond,
			Lease: lease, Log: log, Process: func(ctx context.Context, j store.Job) {
				r.start(j.ID)
				defer r.end(j.ID)
				time.Sleep(5 * lease / 2)
				if err := s.Ack(ctx, j); err == nil {
					acked.Store(true)
				}
			}})
		waitUntil(t, "the job to be acked", acked.Load)
		if total, same := r.get("LONG"); total != 1 || same != 1 {
			t.Fatalf("runs = %d, at once %d; want 1 run", total, same)
		}
	})

	// A holder that died (no heartbeat) loses its job after one lease.
	t.Run("DeadHolderReclaimed", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("KILLED")))
		if got := claim(t, s, "killed", 1, 0, 300*time.Millisecond); len(got) != 1 {
			t.Fatal("no claim")
		}
		var got atomic.Int32
		loops(t, s, 1, store.LoopConfig{Queue: store.QueueInbound, Consumer: "w", Wait: 50 * time.Millisecond,
			Lease: time.Minute, Log: log, Process: func(ctx context.Context, j store.Job) {
				got.Store(int32(j.Attempts))
				must(t, s.Ack(ctx, j))
			}})
		waitUntil(t, "the job to be reclaimed", func() bool { return got.Load() == 2 })
	})

	// A job over its budget is stopped, retried once, then dead-lettered,
	// and never runs twice at once: its handler even ignores the
	// cancellation for longer than a lease.
	t.Run("BudgetRetriedOnceThenBuried", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("SLOW")))
		r := newRuns()
		const budget, lease = 3 * time.Second, 1200 * time.Millisecond
		loops(t, s, 3, store.LoopConfig{Queue: store.QueueInbound, Consumer: "w", Wait: 50 * time.Millisecond,
			Lease: lease, Budget: budget, Log: log, Process: func(ctx context.Context, j store.Job) {
				r.start(j.ID)
				defer r.end(j.ID)
				<-ctx.Done()
				time.Sleep(lease + 200*time.Millisecond) // slow to notice
			}})
		waitUntil(t, "the job to be buried", func() bool { return stats(t, s).Dead == 1 })
		dead, err := s.DeadJobs(ctx, store.QueueInbound, 0)
		must(t, err)
		if len(dead) != 1 || !strings.HasPrefix(dead[0].LastError, store.OverBudget) || dead[0].Attempts != 2 {
			t.Fatalf("dead = %+v", dead)
		}
		time.Sleep(budget)
		if total, same := r.get("SLOW"); total != 2 || same != 1 {
			t.Fatalf("runs = %d, at once %d; want 2 runs, one at a time", total, same)
		}
	})
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
