package reconcile_test

import (
	"context"
	"crypto/rand"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
	"github.com/bucketmail/bucketmail/worker"
)

const grace = 10 * time.Minute

// env is the embedded storage (testenv.Embedded) with users alice and bob.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *sqlite.DB
	blobs blob.Store
	alice store.User
	bob   store.User
	now   atomic.Int64 // the reconcilers' clock, unix nanoseconds
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := testenv.Embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, db: st.SQLite, blobs: st.Blobs}
	e.now.Store(time.Now().UnixNano())
	e.alice, e.bob = st.User("alice@example.org"), st.User("bob@example.org")
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setNow sets the reconcilers' clock.
func (e *env) setNow(t time.Time) { e.now.Store(t.UnixNano()) }

func (e *env) reconciler(holder string) *reconcile.Reconciler {
	return reconcile.New(reconcile.Config{
		Store:    e.db,
		Blobs:    e.blobs,
		Holder:   holder,
		Grace:    grace,
		GCDelay:  time.Hour,
		PageSize: 3, // several pages with few objects
		Now:      func() time.Time { return time.Unix(0, e.now.Load()) },
	})
}

func (e *env) once(r *reconcile.Reconciler) reconcile.Result {
	e.t.Helper()
	res, err := r.Once(e.ctx)
	must(e.t, err)
	if !res.Leased {
		e.t.Fatal("reconciler did not get the lease")
	}
	return res
}

// putMessage writes a message object as the edge does, with the job's
// envelope as metadata, for a ULID made at created; it returns the job
// without enqueueing it (the edge crashed before Enqueue).
func (e *env) putMessage(created time.Time, to ...string) store.Job {
	e.t.Helper()
	id := ulid.MustNew(ulid.Timestamp(created), rand.Reader).String()
	j := store.Job{
		ID: id, Queue: store.QueueInbound, BlobKey: blob.MessageKey(id),
		From: "sender@remote.example", To: to, ReceivedAt: created.UTC(),
	}
	body := "Received: from remote\r\nFrom: sender@remote.example\r\nSubject: " + id + "\r\n\r\nHello\r\n"
	if _, err := e.blobs.Put(e.ctx, j.BlobKey, strings.NewReader(body), store.JobMeta(j)); err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *env) exists(key string) bool {
	e.t.Helper()
	_, err := e.blobs.Stat(e.ctx, key)
	if err != nil && !strings.Contains(err.Error(), "not found") {
		e.t.Fatal(err)
	}
	return err == nil
}

func (e *env) inbox(u store.User) []store.Message {
	e.t.Helper()
	must(e.t, e.db.EnsureUser(e.ctx, u.ID))
	mb, err := e.db.Mailbox(e.ctx, u.ID, store.Inbox)
	must(e.t, err)
	msgs, err := e.db.Messages(e.ctx, u.ID, mb.ID, 1, 0, 0)
	must(e.t, err)
	return msgs
}

func (e *env) pending() int {
	e.t.Helper()
	st, err := e.db.QueueStats(e.ctx, store.QueueInbound)
	must(e.t, err)
	return st.Pending + st.InFlight + st.Delayed
}

// runWorker runs a real worker until the test ends.
func (e *env) runWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := worker.New(worker.Config{Store: e.db, Blobs: e.blobs, Hostname: "test", Concurrency: 2})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitDrained polls until the queue has no job left.
func (e *env) waitDrained() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for e.pending() > 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("queue not drained: %d jobs", e.pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// acked runs j through the queue as a worker would, without delivering.
func (e *env) acked(j store.Job) {
	e.t.Helper()
	must(e.t, e.db.Enqueue(e.ctx, j))
	jobs, err := e.db.Claim(e.ctx, store.QueueInbound, "test", 1, 0, time.Minute)
	must(e.t, err)
	if len(jobs) != 1 || jobs[0].ID != j.ID {
		e.t.Fatalf("claimed %+v, want %s", jobs, j.ID)
	}
	must(e.t, e.db.Ack(e.ctx, jobs[0]))
}
