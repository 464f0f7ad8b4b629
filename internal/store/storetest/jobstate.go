package storetest

import (
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// retentionSetter is a driver whose done retention a test may shorten.
type retentionSetter interface{ SetDoneRetention(time.Duration) }

// testJobState checks store.Job.State: kept by SaveState, Retry and Bury,
// fenced like every settle, kept with an acked job's done record for the
// retention only.
func testJobState(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		j := job("S")
		j.State = `{"first":1}`
		must(t, s.Enqueue(ctx, j))
		got := claim(t, s, "c", 1, 0, time.Minute)[0]
		if got.State != `{"first":1}` {
			t.Fatalf("state after enqueue = %q", got.State)
		}
		got.State = "saved"
		must(t, s.SaveState(ctx, got))
		got.State = "retried"
		must(t, s.Retry(ctx, got, time.Now(), "later"))
		got = claim(t, s, "c", 1, 5*time.Second, time.Minute)[0]
		if got.State != "retried" || got.Attempts != 2 {
			t.Fatalf("after retry = %+v", got)
		}
		got.State = "buried"
		must(t, s.Bury(ctx, got, "gave up"))
		dead, err := s.DeadJobs(ctx, store.QueueInbound, 0)
		must(t, err)
		if len(dead) != 1 || dead[0].State != "buried" {
			t.Fatalf("dead = %+v", dead)
		}
	})

	t.Run("SaveStateFenced", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("F")))
		first := claim(t, s, "dead-worker", 1, 0, 200*time.Millisecond)[0]
		second := claim(t, s, "live-worker", 1, 5*time.Second, time.Minute)
		if len(second) != 1 {
			t.Fatal("expired lease not reclaimed")
		}
		first.State = "stale"
		wantErr(t, s.SaveState(ctx, first), store.ErrNotFound, "save state of a lost lease")
		wantErr(t, s.Renew(ctx, first, time.Minute), store.ErrNotFound, "renew of a lost lease")
		second[0].State = "fresh"
		must(t, s.SaveState(ctx, second[0]))
		must(t, s.Retry(ctx, second[0], time.Now(), "again"))
		if got := claim(t, s, "c", 1, 5*time.Second, time.Minute); len(got) != 1 || got[0].State != "fresh" {
			t.Fatalf("claim = %+v", got)
		}
	})

	t.Run("KeptForRetention", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		rs, ok := s.(retentionSetter)
		if !ok {
			t.Fatalf("%T cannot shorten its done retention", s)
		}
		rs.SetDoneRetention(time.Second)
		must(t, s.Enqueue(ctx, job("K")))
		j := claim(t, s, "c", 1, 0, time.Minute)[0]
		j.State = "finished"
		must(t, s.Ack(ctx, j))
		// Enqueued again (the reconciler, a resent notice): the new job
		// starts where the last one ended.
		must(t, s.Enqueue(ctx, job("K")))
		j = claim(t, s, "c", 1, 0, time.Minute)[0]
		if j.State != "finished" {
			t.Fatalf("state of a job enqueued again = %q, want the acked one's", j.State)
		}
		must(t, s.Ack(ctx, j))
		time.Sleep(1500 * time.Millisecond)
		claim(t, s, "c", 1, 0, time.Minute) // lets a driver prune
		must(t, s.Enqueue(ctx, job("K")))
		j = claim(t, s, "c", 1, 0, time.Minute)[0]
		if j.State != "" {
			t.Fatalf("state outlived the retention: %q", j.State)
		}
	})

	t.Run("Renew", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("H")))
		// Long enough for a loaded machine (race detector, 2 cores) to
		// renew in time.
		const lease = time.Second
		j := claim(t, s, "holder", 1, 0, lease)[0]
		// The holder heartbeats for three leases; nobody else gets the job.
		for end := time.Now().Add(3 * lease); time.Now().Before(end); {
			must(t, s.Renew(ctx, j, lease))
			if got := claim(t, s, "other", 1, lease/3, time.Minute); len(got) != 0 {
				t.Fatalf("renewed job claimed by another consumer: %+v", got)
			}
		}
		// The holder stops (killed): the job comes back after its lease.
		got := claim(t, s, "other", 1, 5*time.Second, time.Minute)
		if len(got) != 1 || got[0].Attempts != 2 {
			t.Fatalf("claim after the heartbeat stopped = %+v", got)
		}
		wantErr(t, s.Renew(ctx, j, lease), store.ErrNotFound, "renew of a lost lease")
		wantErr(t, s.Ack(ctx, j), store.ErrNotFound, "ack of a lost lease")
		must(t, s.Ack(ctx, got[0]))
		must(t, s.Enqueue(ctx, job("R2")))
		r := claim(t, s, "c", 1, 0, time.Minute)[0]
		must(t, s.Retry(ctx, r, time.Now().Add(time.Hour), "later"))
		wantErr(t, s.Renew(ctx, r, lease), store.ErrNotFound, "renew of a released job")
	})
}
