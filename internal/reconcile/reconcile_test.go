package reconcile_test

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// TestOrphanDeliveredOnce: the edge wrote the object and crashed before
// Enqueue. After the grace period the reconciler enqueues the job, a worker
// delivers it, and neither a second pass nor the job firing again makes a
// second copy.
func TestOrphanDeliveredOnce(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	j := e.putMessage(start, "alice@example.org", "bob@example.org")
	r := e.reconciler("w1")

	if res := e.once(r); res.Enqueued != 0 || res.Scanned != 0 {
		t.Fatalf("pass within the grace period: %+v", res)
	}
	e.setNow(start.Add(grace + time.Second))
	if res := e.once(r); res.Enqueued != 1 {
		t.Fatalf("pass after the grace period: %+v", res)
	}
	if res := e.once(r); res.Enqueued != 0 || res.Known != 1 {
		t.Fatalf("second pass with the job pending: %+v", res)
	}
	e.runWorker()
	e.waitDrained()
	e.setNow(start.Add(3 * grace))
	if res := e.once(r); res.Enqueued != 0 {
		t.Fatalf("pass after delivery: %+v", res)
	}
	// The job fires once more (a reclaim, a reconciler with a lost
	// ledger): the idempotency keys keep one copy.
	must(t, e.db.Enqueue(e.ctx, j))
	e.waitDrained()
	for _, u := range []store.User{e.alice, e.bob} {
		msgs := e.inbox(u)
		if len(msgs) != 1 || msgs[0].BlobKey != j.BlobKey {
			t.Fatalf("INBOX of %s = %+v, want the message once", u.Address, msgs)
		}
	}
}

// TestKnownJobsLeftAlone: an object whose job is pending, or acked, or
// that has no job (IMAP APPEND) is not enqueued.
func TestKnownJobsLeftAlone(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	pending := e.putMessage(start, "alice@example.org")
	must(t, e.db.Enqueue(e.ctx, pending))
	done := e.putMessage(start, "bob@example.org")
	must(t, e.db.Enqueue(e.ctx, done))
	jobs, err := e.db.Claim(e.ctx, store.QueueInbound, "c", 10, 0, time.Minute)
	must(t, err)
	for _, c := range jobs {
		if c.ID == done.ID {
			must(t, e.db.Ack(e.ctx, c))
		} else {
			must(t, e.db.Retry(e.ctx, c, time.Now(), "later"))
		}
	}
	appended := store.AppendMeta(store.Appended{UserID: e.alice.ID, Mailbox: "Sent", Date: start})
	key := "msg/" + ulid.MustNew(ulid.Timestamp(start), rand.Reader).String()
	if _, err := e.blobs.Put(e.ctx, key, strings.NewReader("Subject: x\r\n\r\n"), appended); err != nil {
		t.Fatal(err)
	}

	e.setNow(start.Add(grace + time.Second))
	res := e.once(e.reconciler("w1"))
	if res.Enqueued != 0 || res.Known != 2 || res.NoJob != 1 || res.Scanned != 3 {
		t.Fatalf("pass = %+v, want 2 known, 1 without job, none enqueued", res)
	}
	if n := e.pending(); n != 1 {
		t.Fatalf("%d jobs queued, want the pending one", n)
	}
}

// TestParallelReconcilers: many reconcilers at once enqueue each lost job
// once; the lease lets one of them work.
func TestParallelReconcilers(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	const lost = 10
	for range lost {
		e.putMessage(start, "alice@example.org")
	}
	e.setNow(start.Add(grace + time.Second))
	var wg sync.WaitGroup
	results := make([]reconcile.Result, 4)
	errs := make([]error, 4)
	for i := range results {
		r := e.reconciler(string(rune('a' + i)))
		wg.Go(func() { results[i], errs[i] = r.Once(e.ctx) })
	}
	wg.Wait()
	enqueued, leased := 0, 0
	for i, res := range results {
		must(t, errs[i])
		enqueued += res.Enqueued
		if res.Leased {
			leased++
		}
	}
	if enqueued != lost || leased != 1 || e.pending() != lost {
		t.Fatalf("enqueued %d by %d lease holders, %d queued; want %d by 1", enqueued, leased, e.pending(), lost)
	}
}

// TestCheckpoint: the checkpoint passes only objects settled for two grace
// periods, so a younger object, or one that becomes visible late, is not
// skipped.
func TestCheckpoint(t *testing.T) {
	e := newEnv(t)
	base := time.Now()
	old := e.putMessage(base.Add(-2*time.Hour), "alice@example.org")
	recent := e.putMessage(base, "alice@example.org")
	young := e.putMessage(base.Add(grace+4*time.Minute), "alice@example.org") // younger than grace at the first pass
	r := e.reconciler("w1")

	e.setNow(base.Add(grace + 5*time.Minute))
	res := e.once(r)
	if res.Enqueued != 2 || res.Checkpoint != old.BlobKey {
		t.Fatalf("first pass: %+v; want 2 enqueued, checkpoint at %s", res, old.BlobKey)
	}
	// An upload that took long becomes visible now, with a key between
	// the checkpoint and recent.
	late := e.putMessage(base.Add(-time.Hour), "alice@example.org")
	res = e.once(r)
	if res.Enqueued != 1 || res.Checkpoint != late.BlobKey {
		t.Fatalf("pass after a late upload: %+v; want it enqueued, checkpoint at %s", res, late.BlobKey)
	}
	e.setNow(base.Add(2 * time.Hour))
	res = e.once(r)
	if res.Enqueued != 1 || res.Checkpoint != young.BlobKey {
		t.Fatalf("pass once all settled: %+v; want young enqueued, checkpoint at %s", res, young.BlobKey)
	}
	if res := e.once(r); res.Scanned != 0 {
		t.Fatalf("pass after the checkpoint reached the end scanned %d", res.Scanned)
	}
	if e.pending() != 4 {
		t.Fatalf("%d jobs queued, want 4", e.pending())
	}
	_ = recent
}

// TestCollector: an expunged message's object goes only after the delay,
// and never while another mailbox refers to it or its job is queued.
func TestCollector(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	must(t, e.db.EnsureUser(e.ctx, e.alice.ID))
	inbox, err := e.db.Mailbox(e.ctx, e.alice.ID, store.Inbox)
	must(t, err)
	archive, err := e.db.Mailbox(e.ctx, e.alice.ID, "Archive")
	must(t, err)
	j := e.putMessage(start.Add(-time.Hour), "alice@example.org")
	e.acked(j) // delivered: the worker inserts, then acks
	uid, _, err := e.db.InsertMessage(e.ctx, e.alice.ID, inbox.ID, j.ID+"/"+e.alice.ID,
		store.NewMessage{BlobKey: j.BlobKey, Size: 10, Flags: []string{store.FlagDeleted}})
	must(t, err)
	_, copied, err := e.db.CopyMessages(e.ctx, e.alice.ID, inbox.ID, []uint32{uid}, archive.ID)
	must(t, err)

	// expunge expunges uids and returns the delete schedule after it (the
	// store schedules what lost its last reference).
	expunge := func(mb store.Mailbox, uids []uint32) []string {
		t.Helper()
		_, err := e.db.Expunge(e.ctx, e.alice.ID, mb.ID, uids)
		must(t, err)
		due, err := e.db.DueBlobDeletes(e.ctx, time.Now().Add(24*time.Hour), 0)
		must(t, err)
		return due
	}
	if due := expunge(inbox, nil); len(due) != 0 {
		t.Fatalf("expunging one of two entries scheduled %q", due)
	}
	// A stale schedule of a referenced object is dropped, not executed.
	must(t, e.db.ScheduleBlobDeletes(e.ctx, []string{j.BlobKey}, start.Add(-2*time.Hour)))
	r := e.reconciler("w1")
	e.setNow(start.Add(3 * time.Hour))
	if res := e.once(r); res.Deleted != 0 || res.Kept != 1 || !e.exists(j.BlobKey) {
		t.Fatalf("pass with a referenced object scheduled: %+v", res)
	}

	if due := expunge(archive, copied); !slices.Equal(due, []string{j.BlobKey}) {
		t.Fatalf("expunging the last entry scheduled %q", due)
	}
	e.setNow(time.Now().Add(30 * time.Minute))
	if res := e.once(r); res.Deleted != 0 || !e.exists(j.BlobKey) {
		t.Fatalf("pass before the delay: %+v", res)
	}
	e.setNow(time.Now().Add(time.Hour + time.Minute))
	if res := e.once(r); res.Deleted != 1 || e.exists(j.BlobKey) {
		t.Fatalf("pass after the delay: %+v, object exists %v", res, e.exists(j.BlobKey))
	}
	due, err := e.db.DueBlobDeletes(e.ctx, time.Now().Add(24*time.Hour), 0)
	must(t, err)
	if len(due) != 0 {
		t.Fatalf("schedule after collection = %q", due)
	}

	// An object whose job is still queued (delivered to one recipient,
	// expunged there, another recipient still to do) is postponed.
	queued := e.putMessage(start.Add(-time.Hour), "alice@example.org", "bob@example.org")
	must(t, e.db.Enqueue(e.ctx, queued))
	must(t, e.db.ScheduleBlobDeletes(e.ctx, []string{queued.BlobKey}, start.Add(-2*time.Hour)))
	e.setNow(start.Add(3 * time.Hour))
	if res := e.once(r); res.Deleted != 0 || res.Postponed != 1 || !e.exists(queued.BlobKey) {
		t.Fatalf("pass with a queued job's object scheduled: %+v", res)
	}
}

// TestIndexLossStops: an index store that lost everything (a new, empty
// one on the same bucket) must not reconcile nor collect until reindex
// adopted the bucket's epoch.
func TestIndexLossStops(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	e.putMessage(start, "alice@example.org")
	e.setNow(start.Add(grace + time.Second))
	if res := e.once(e.reconciler("w1")); res.Enqueued != 1 {
		t.Fatalf("pass on the intact index: %+v", res)
	}

	lost := testenv.OpenSQLite(t, filepath.Join(t.TempDir(), "empty.db"))
	must(t, lost.ScheduleBlobDeletes(e.ctx, []string{"msg/x"}, start.Add(-time.Hour)))
	r := reconcile.New(reconcile.Config{Store: lost, Blobs: e.blobs, Holder: "w2", Grace: grace,
		Now: func() time.Time { return start.Add(time.Hour) }})
	res, err := r.Once(e.ctx)
	if !errors.Is(err, reconcile.ErrIndexLost) || res.Enqueued != 0 || res.Deleted != 0 {
		t.Fatalf("pass on an empty index = %+v, %v; want ErrIndexLost and nothing done", res, err)
	}
	if st, _ := lost.QueueStats(e.ctx, store.QueueInbound); st.Pending != 0 {
		t.Fatalf("jobs enqueued on the lost index: %+v", st)
	}
	must(t, reconcile.AdoptEpoch(e.ctx, lost, e.blobs))
	if res, err := r.Once(e.ctx); err != nil || res.Enqueued != 1 {
		t.Fatalf("pass after adopting the epoch = %+v, %v", res, err)
	}
}
