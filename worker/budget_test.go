package worker

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// stuckBlobs never answers a Get before its context ends, like a parser
// stuck on a hostile message; it counts the runs in progress.
type stuckBlobs struct {
	blob.Store
	mu            sync.Mutex
	now, total, n int // runs in progress, runs started, most at once
}

func (s *stuckBlobs) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	s.mu.Lock()
	s.now++
	s.total++
	s.n = max(s.n, s.now)
	s.mu.Unlock()
	<-ctx.Done()
	time.Sleep(300 * time.Millisecond) // slow to notice, longer than a lease
	s.mu.Lock()
	s.now--
	s.mu.Unlock()
	return nil, ctx.Err()
}

func (s *stuckBlobs) runs() (total, atOnce int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total, s.n
}

// TestJobOverBudget: a delivery that outlives --job-timeout is stopped,
// retried once, then dead-lettered; two workers never run it at once.
func TestJobOverBudget(t *testing.T) {
	e := newEnv(t)
	j := e.job(sample, "alice@example.com")
	e.enqueue(j)
	stuck := &stuckBlobs{Store: e.blobs}
	for _, name := range []string{"w1", "w2"} {
		e.run(New(Config{
			Store: e.st, Blobs: stuck, Hostname: "test", Consumer: name, Concurrency: 2,
			Lease: 240 * time.Millisecond, JobTimeout: 700 * time.Millisecond,
			RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond,
			Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: e.metrics,
		}))
	}
	deadline := time.Now().Add(15 * time.Second)
	var dead []store.Job
	for len(dead) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job was not dead-lettered")
		}
		time.Sleep(20 * time.Millisecond)
		var err error
		if dead, err = e.st.DeadJobs(t.Context(), store.QueueInbound, 0); err != nil {
			t.Fatal(err)
		}
	}
	if dead[0].ID != j.ID || !strings.HasPrefix(dead[0].LastError, store.OverBudget) {
		t.Fatalf("dead letter = %+v", dead[0])
	}
	time.Sleep(time.Second) // a third run would have started by now
	if total, atOnce := stuck.runs(); total != 2 || atOnce != 1 {
		t.Fatalf("%d runs, %d at once; want 2 runs, one at a time", total, atOnce)
	}
}
