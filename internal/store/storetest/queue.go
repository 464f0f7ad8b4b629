package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

func job(id string) store.Job {
	return store.Job{
		ID:         id,
		Queue:      store.QueueInbound,
		BlobKey:    "msg/" + id,
		From:       "sender@remote.example",
		To:         []string{"a@example.org", "b@example.org"},
		ReceivedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		ClientIP:   "192.0.2.1",
		Helo:       "mx.remote.example",
		Auth:       "",
	}
}

func claim(t *testing.T, q store.Queue, consumer string, max int, wait, lease time.Duration) []store.Job {
	t.Helper()
	jobs, err := q.Claim(ctxFor(t), store.QueueInbound, consumer, max, wait, lease)
	must(t, err)
	return jobs
}

func stats(t *testing.T, q store.Queue) store.QueueStats {
	t.Helper()
	st, err := q.QueueStats(ctxFor(t), store.QueueInbound)
	must(t, err)
	return st
}

func testQueue(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		if got := claim(t, s, "c1", 10, 0, time.Minute); len(got) != 0 {
			t.Fatalf("claim on empty queue = %+v", got)
		}
		j := job("01J0000000000000000000000A")
		must(t, s.Enqueue(ctx, j))
		wantErr(t, s.Enqueue(ctx, j), store.ErrExists, "enqueue twice")
		other := job("01J0000000000000000000000B")
		other.Queue = store.QueueOutbound
		must(t, s.Enqueue(ctx, other))
		if st := stats(t, s); st != (store.QueueStats{Pending: 1}) {
			t.Fatalf("stats = %+v", st)
		}
		got := claim(t, s, "c1", 10, 0, time.Minute)
		if len(got) != 1 {
			t.Fatalf("claim = %+v", got)
		}
		g := got[0]
		if g.ID != j.ID || g.Queue != j.Queue || g.BlobKey != j.BlobKey || g.From != j.From || !slices.Equal(g.To, j.To) ||
			!g.ReceivedAt.Equal(j.ReceivedAt) || g.ClientIP != j.ClientIP || g.Helo != j.Helo || g.Auth != j.Auth || g.Attempts != 1 {
			t.Fatalf("claimed %+v, enqueued %+v", g, j)
		}
		if st := stats(t, s); st != (store.QueueStats{InFlight: 1}) {
			t.Fatalf("stats while claimed = %+v", st)
		}
		if got := claim(t, s, "c2", 10, 0, time.Minute); len(got) != 0 {
			t.Fatalf("claimed job handed out again: %+v", got)
		}
		must(t, s.Ack(ctx, g))
		if st := stats(t, s); st != (store.QueueStats{}) {
			t.Fatalf("stats after ack = %+v", st)
		}
		wantErr(t, s.Ack(ctx, g), store.ErrNotFound, "ack twice")
		got, err := s.Claim(ctx, store.QueueOutbound, "c1", 10, 0, time.Minute)
		must(t, err)
		if len(got) != 1 || got[0].ID != other.ID || got[0].Queue != store.QueueOutbound {
			t.Fatalf("outbound claim = %+v", got)
		}
	})

	t.Run("FIFOAndMax", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		var ids []string
		for i := range 5 {
			id := fmt.Sprintf("J%02d", i)
			ids = append(ids, id)
			must(t, s.Enqueue(ctx, job(id)))
		}
		got := claim(t, s, "c", 3, 0, time.Minute)
		if len(got) != 3 || got[0].ID != ids[0] || got[1].ID != ids[1] || got[2].ID != ids[2] {
			t.Fatalf("claim 3 = %+v", got)
		}
	})

	t.Run("WaitWakesOnEnqueue", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		done := make(chan []store.Job, 1)
		go func() {
			jobs, _ := s.Claim(ctx, store.QueueInbound, "c", 1, 10*time.Second, time.Minute)
			done <- jobs
		}()
		must(t, s.Enqueue(ctx, job("late")))
		select {
		case got := <-done:
			if len(got) != 1 || got[0].ID != "late" {
				t.Fatalf("waiting claim got %+v", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waiting claim did not see the enqueued job")
		}
	})

	t.Run("LeaseExpiry", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("L")))
		first := claim(t, s, "dead-worker", 1, 0, 200*time.Millisecond)
		if len(first) != 1 || first[0].Attempts != 1 {
			t.Fatalf("first claim = %+v", first)
		}
		second := claim(t, s, "live-worker", 1, 5*time.Second, time.Minute)
		if len(second) != 1 || second[0].ID != "L" || second[0].Attempts != 2 {
			t.Fatalf("claim after lease expiry = %+v", second)
		}
		// The first worker wakes up late: it must not disturb the new claim.
		wantErr(t, s.Ack(ctx, first[0]), store.ErrNotFound, "ack of a lost lease")
		wantErr(t, s.Retry(ctx, first[0], time.Now(), "late"), store.ErrNotFound, "retry of a lost lease")
		wantErr(t, s.Bury(ctx, first[0], "late"), store.ErrNotFound, "bury of a lost lease")
		if st := stats(t, s); st != (store.QueueStats{InFlight: 1}) {
			t.Fatalf("stats = %+v", st)
		}
		must(t, s.Ack(ctx, second[0]))
	})

	t.Run("RetryDelay", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("R")))
		j := claim(t, s, "c", 1, 0, time.Minute)[0]
		at := time.Now().Add(700 * time.Millisecond)
		must(t, s.Retry(ctx, j, at, "452 mailbox busy"))
		if got := claim(t, s, "c", 1, 0, time.Minute); len(got) != 0 {
			t.Fatalf("retried job claimed before its time: %+v", got)
		}
		if st := stats(t, s); st != (store.QueueStats{Delayed: 1}) {
			t.Fatalf("stats = %+v", st)
		}
		got := claim(t, s, "c", 1, 10*time.Second, time.Minute)
		if len(got) != 1 {
			t.Fatal("retried job never came back")
		}
		if time.Now().Before(at) {
			t.Fatalf("retried job claimed before %v", at)
		}
		if got[0].Attempts != 2 || got[0].LastError != "452 mailbox busy" || got[0].ID != "R" {
			t.Fatalf("retried job = %+v", got[0])
		}
	})

	t.Run("Bury", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		for _, id := range []string{"B1", "B2", "B3"} {
			must(t, s.Enqueue(ctx, job(id)))
		}
		jobs := claim(t, s, "c", 3, 0, time.Minute)
		// Buried in enqueue order, so that "oldest first" means the same
		// whether a driver orders by enqueue or by burial time.
		must(t, s.Bury(ctx, jobs[0], "bad message"))
		must(t, s.Bury(ctx, jobs[1], "550 no such user"))
		must(t, s.Ack(ctx, jobs[2]))
		if st := stats(t, s); st != (store.QueueStats{Dead: 2}) {
			t.Fatalf("stats = %+v", st)
		}
		if got := claim(t, s, "c", 3, 0, time.Minute); len(got) != 0 {
			t.Fatalf("dead job claimed: %+v", got)
		}
		dead, err := s.DeadJobs(ctx, store.QueueInbound, 10)
		must(t, err)
		if len(dead) != 2 || dead[0].ID != "B1" || dead[1].ID != "B2" || dead[0].LastError != "bad message" ||
			dead[1].LastError != "550 no such user" || dead[0].BlobKey != "msg/B1" || !slices.Equal(dead[0].To, job("B1").To) {
			t.Fatalf("DeadJobs = %+v", dead)
		}
		if dead, _ := s.DeadJobs(ctx, store.QueueInbound, 1); len(dead) != 1 || dead[0].ID != "B1" {
			t.Fatalf("DeadJobs(limit 1) = %+v", dead)
		}
		if dead, _ := s.DeadJobs(ctx, store.QueueOutbound, 10); len(dead) != 0 {
			t.Fatalf("DeadJobs(outbound) = %+v", dead)
		}
		wantErr(t, s.Ack(ctx, jobs[0]), store.ErrNotFound, "ack of a dead job")
	})

	t.Run("AttemptsCount", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.Enqueue(ctx, job("A")))
		for want := 1; want <= 3; want++ {
			got := claim(t, s, "c", 1, 0, time.Minute)
			if len(got) != 1 || got[0].Attempts != want {
				t.Fatalf("claim %d = %+v", want, got)
			}
			must(t, s.Retry(ctx, got[0], time.Now(), fmt.Sprint("try ", want)))
		}
	})

	t.Run("ConcurrentConsumers", func(t *testing.T) {
		s := open(t)
		testClaimExclusive(t, s, s)
	})
}
