package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// RunLedger runs the conformance tests of store.Ledger; open returns a new,
// empty store for each test and closes it in t.Cleanup.
func RunLedger(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("JobKnown", func(t *testing.T) { testJobKnown(t, open(t)) })
	t.Run("Lease", func(t *testing.T) { testLease(t, open(t)) })
	t.Run("Checkpoint", func(t *testing.T) { testCheckpoint(t, open(t)) })
	t.Run("BlobDeletes", func(t *testing.T) { testBlobDeletes(t, open(t)) })
	t.Run("BlobRefs", func(t *testing.T) { testBlobRefs(t, open(t)) })
}

func known(t *testing.T, s store.Store, queue, id string) bool {
	t.Helper()
	ok, err := s.JobKnown(ctxFor(t), queue, id)
	must(t, err)
	return ok
}

// testJobKnown follows jobs through every state: a job is known from
// Enqueue on, while claimed, delayed, dead and after Ack.
func testJobKnown(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	a, b, c := job("01J00000000000000000000KA1"), job("01J00000000000000000000KB1"), job("01J00000000000000000000KC1")
	if known(t, s, store.QueueInbound, a.ID) {
		t.Fatal("a job never enqueued is known")
	}
	for _, j := range []store.Job{a, b, c} {
		must(t, s.Enqueue(ctx, j))
	}
	if !known(t, s, store.QueueInbound, a.ID) {
		t.Fatal("pending job unknown")
	}
	if known(t, s, store.QueueOutbound, a.ID) {
		t.Fatal("job known in a queue it was not enqueued in")
	}
	got := claim(t, s, "c1", 3, 0, time.Minute)
	if len(got) != 3 {
		t.Fatalf("claimed %d jobs, want 3", len(got))
	}
	for _, j := range got {
		if !known(t, s, store.QueueInbound, j.ID) {
			t.Fatalf("in-flight job %s unknown", j.ID)
		}
	}
	byID := map[string]store.Job{}
	for _, j := range got {
		byID[j.ID] = j
	}
	must(t, s.Ack(ctx, byID[a.ID]))
	must(t, s.Bury(ctx, byID[b.ID], "test"))
	must(t, s.Retry(ctx, byID[c.ID], time.Now().Add(time.Hour), "later"))
	for _, id := range []string{a.ID, b.ID, c.ID} {
		if !known(t, s, store.QueueInbound, id) {
			t.Fatalf("job %s unknown after ack, bury or retry", id)
		}
	}
	// A job acked may be enqueued again (reindex re-delivers through the
	// queue; idempotency keys stop duplicates).
	must(t, s.Enqueue(ctx, a))
	if !known(t, s, store.QueueInbound, a.ID) {
		t.Fatal("re-enqueued job unknown")
	}
}

// testLease checks exclusivity, renewal by the holder and takeover after
// expiry.
func testLease(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	try := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.TryLease(ctx, name, holder, ttl)
		must(t, err)
		return ok
	}
	if !try("reconcile", "a", time.Hour) {
		t.Fatal("free lease not taken")
	}
	if try("reconcile", "b", time.Hour) {
		t.Fatal("b took a's valid lease")
	}
	if !try("reconcile", "a", time.Hour) {
		t.Fatal("a could not renew its lease")
	}
	if !try("snapshot", "b", time.Hour) {
		t.Fatal("leases of different names interfere")
	}
	// a renews with a short ttl; once it ran out, b takes over.
	if !try("reconcile", "a", 100*time.Millisecond) {
		t.Fatal("a could not renew with a short ttl")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !try("reconcile", "b", time.Hour) {
		if time.Now().After(deadline) {
			t.Fatal("b never took the expired lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if try("reconcile", "a", time.Hour) {
		t.Fatal("a took the lease back from b")
	}
}

func testCheckpoint(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	get := func(name string) string {
		t.Helper()
		v, err := s.Checkpoint(ctx, name)
		must(t, err)
		return v
	}
	if v := get("reconcile"); v != "" {
		t.Fatalf("unset checkpoint = %q", v)
	}
	must(t, s.SetCheckpoint(ctx, "reconcile", "msg/01J0000000000000000000000A"))
	must(t, s.SetCheckpoint(ctx, "other", "x"))
	if v := get("reconcile"); v != "msg/01J0000000000000000000000A" {
		t.Fatalf("checkpoint = %q", v)
	}
	must(t, s.SetCheckpoint(ctx, "reconcile", "msg/01J0000000000000000000000B"))
	if v, o := get("reconcile"), get("other"); v != "msg/01J0000000000000000000000B" || o != "x" {
		t.Fatalf("checkpoints = %q, %q", v, o)
	}
	for _, n := range []string{"outbound/1", "outbound/2", "outbound*3", "outbounds"} {
		must(t, s.SetCheckpoint(ctx, n, "v"))
	}
	names, err := s.CheckpointNames(ctx, "outbound/")
	must(t, err)
	slices.Sort(names)
	if !slices.Equal(names, []string{"outbound/1", "outbound/2"}) {
		t.Fatalf("CheckpointNames(outbound/) = %q", names)
	}
	must(t, s.DeleteCheckpoint(ctx, "outbound/1"))
	must(t, s.DeleteCheckpoint(ctx, "never-set"))
	if v, o := get("outbound/1"), get("outbound/2"); v != "" || o != "v" {
		t.Fatalf("after delete: %q, %q", v, o)
	}
}

// testBlobDeletes checks the delete schedule: due times, the later time
// winning, limits and forgetting.
func testBlobDeletes(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Now().Truncate(time.Second)
	due := func(now time.Time, limit int) []string {
		t.Helper()
		keys, err := s.DueBlobDeletes(ctx, now, limit)
		must(t, err)
		slices.Sort(keys)
		return keys
	}
	if got := due(t0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("empty schedule has due keys %q", got)
	}
	must(t, s.ScheduleBlobDeletes(ctx, []string{"msg/k1", "msg/k2", "msg/k3"}, t0))
	must(t, s.ScheduleBlobDeletes(ctx, nil, t0))
	if got := due(t0.Add(-time.Second), 10); len(got) != 0 {
		t.Fatalf("keys due before their time: %q", got)
	}
	if got := due(t0, 10); !slices.Equal(got, []string{"msg/k1", "msg/k2", "msg/k3"}) {
		t.Fatalf("due at t0 = %q", got)
	}
	if got := due(t0, 2); len(got) != 2 {
		t.Fatalf("due with limit 2 = %q", got)
	}
	// Scheduling again keeps the later time, in both orders.
	must(t, s.ScheduleBlobDeletes(ctx, []string{"msg/k1"}, t0.Add(time.Minute)))
	must(t, s.ScheduleBlobDeletes(ctx, []string{"msg/k1"}, t0.Add(-time.Minute)))
	if got := due(t0, 10); !slices.Equal(got, []string{"msg/k2", "msg/k3"}) {
		t.Fatalf("due at t0 after rescheduling k1 = %q", got)
	}
	must(t, s.ForgetBlobDelete(ctx, "msg/k2"))
	must(t, s.ForgetBlobDelete(ctx, "msg/never-scheduled"))
	if got := due(t0.Add(time.Hour), 10); !slices.Equal(got, []string{"msg/k1", "msg/k3"}) {
		t.Fatalf("due after forgetting k2 = %q", got)
	}
}

// testBlobRefs follows an object's reference count through insert, copy,
// move and expunge.
func testBlobRefs(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	refs := func(key string) int64 {
		t.Helper()
		n, err := s.BlobRefs(ctx, key)
		must(t, err)
		return n
	}
	u := newUser(t, s, "refs")
	inbox, archive := mailbox(t, s, u, store.Inbox), mailbox(t, s, u, "Archive")
	m := msg(10, store.FlagDeleted)
	if n := refs(m.BlobKey); n != 0 {
		t.Fatalf("refs of an unknown object = %d", n)
	}
	uid := insert(t, s, u, inbox, m)
	if n := refs(m.BlobKey); n != 1 {
		t.Fatalf("refs after insert = %d", n)
	}
	_, dup, err := s.InsertMessage(ctx, u.ID, inbox.ID, "idem-1", m)
	must(t, err)
	_, dup2, err := s.InsertMessage(ctx, u.ID, inbox.ID, "idem-1", m)
	must(t, err)
	if dup || !dup2 || refs(m.BlobKey) != 2 {
		t.Fatalf("refs after insert and duplicate = %d (dup %v %v)", refs(m.BlobKey), dup, dup2)
	}
	_, copied, err := s.CopyMessages(ctx, u.ID, inbox.ID, []uint32{uid}, archive.ID)
	must(t, err)
	if n := refs(m.BlobKey); n != 3 {
		t.Fatalf("refs after copy = %d", n)
	}
	_, _, err = s.MoveMessages(ctx, u.ID, archive.ID, copied, inbox.ID)
	must(t, err)
	if n := refs(m.BlobKey); n != 3 {
		t.Fatalf("refs after move = %d", n)
	}
	_, err = s.Expunge(ctx, u.ID, inbox.ID, []uint32{uid})
	must(t, err)
	if n := refs(m.BlobKey); n != 2 {
		t.Fatalf("refs after expunging one of three = %d", n)
	}
	wantUnscheduled(t, s, m.BlobKey, "one of three expunged")
	from := time.Now()
	_, err = s.Expunge(ctx, u.ID, inbox.ID, nil)
	must(t, err)
	if n := refs(m.BlobKey); n != 0 {
		t.Fatalf("refs after expunging all = %d", n)
	}
	wantScheduled(t, s, m.BlobKey, from, time.Now(), "all expunged")
}
