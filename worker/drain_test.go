package worker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// drainWorker is env.worker with Config.Drain set.
func (e *env) drainWorker() *Worker {
	return New(Config{
		Store: e.st, Blobs: e.blobs, Hostname: "test", Consumer: "test", Concurrency: 2,
		Lease: 10 * time.Second, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: e.metrics, Drain: true,
	})
}

// startDrain runs w and returns the channel Run's result arrives on.
func startDrain(t *testing.T, w *Worker) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return done
}

func waitRun(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("draining Run did not return")
	}
}

func TestDrainDeliversAllThenReturns(t *testing.T) {
	e := newEnv(t)
	for _, to := range []string{"alice@example.com", "bob@example.com", "alice@example.com"} {
		e.enqueue(e.job("Subject: hi\r\n\r\nhello\r\n", to))
	}
	waitRun(t, startDrain(t, e.drainWorker()))
	if n := len(e.inbox("alice")); n != 2 {
		t.Errorf("alice has %d messages, want 2", n)
	}
	if n := len(e.inbox("bob")); n != 1 {
		t.Errorf("bob has %d messages, want 1", n)
	}
	if qs := e.settle(); qs.Dead != 0 {
		t.Errorf("dead jobs: %+v", qs)
	}
}

func TestDrainEmptyQueueReturns(t *testing.T) {
	e := newEnv(t)
	waitRun(t, startDrain(t, e.drainWorker()))
}

// A job waiting for its retry time counts: the drain waits and delivers it.
func TestDrainWaitsForDelayedJob(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.enqueue(e.job("Subject: later\r\n\r\nhello\r\n", "carol@example.com"))
	jobs, err := e.st.Claim(ctx, store.QueueInbound, "other", 1, time.Second, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v, %d jobs", err, len(jobs))
	}
	if err := e.st.Retry(ctx, jobs[0], time.Now().Add(300*time.Millisecond), "test delay"); err != nil {
		t.Fatal(err)
	}
	waitRun(t, startDrain(t, e.drainWorker()))
	if n := len(e.inbox("carol")); n != 1 {
		t.Errorf("carol has %d messages, want 1 (the delayed job)", n)
	}
}

// The outbound queue counts by default: a draining inbound worker does not
// stop while an outbound job may still turn into local deliveries.
func TestDrainWaitsForOutboundQueue(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	out := e.job("Subject: out\r\n\r\nhello\r\n", "someone@example.net")
	out.Queue = store.QueueOutbound
	e.enqueue(out)
	e.enqueue(e.job("Subject: in\r\n\r\nhello\r\n", "dave@example.com"))
	done := startDrain(t, e.drainWorker())
	e.settle() // the inbound job is delivered
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) with an outbound job pending", err)
	default:
	}
	jobs, err := e.st.Claim(ctx, store.QueueOutbound, "outbound-test", 1, time.Second, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim outbound: %v, %d jobs", err, len(jobs))
	}
	if err := e.st.Ack(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	waitRun(t, done)
	if n := len(e.inbox("dave")); n != 1 {
		t.Errorf("dave has %d messages, want 1", n)
	}
}

// Without Drain, an empty queue does not end Run.
func TestNoDrainKeepsRunning(t *testing.T) {
	e := newEnv(t)
	w := e.worker(nil)
	done := startDrain(t, w)
	e.enqueue(e.job("Subject: hi\r\n\r\nhello\r\n", "alice@example.com"))
	e.settle()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) without Drain", err)
	default:
	}
}
