package intake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// queue is what the tests need of a store driver.
type queue interface {
	intake.Queue
	Claim(ctx context.Context, queue, consumer string, max int, wait, lease time.Duration) ([]store.Job, error)
}

// drivers runs test against each deployment's storage (testenv.Each).
func drivers(t *testing.T, test func(t *testing.T, blobs blob.Store, q queue)) {
	testenv.Each(t, func(t *testing.T, st *testenv.Env) { test(t, st.Blobs, st.Store) })
}

func newJob() store.Job {
	id := ulid.Make().String()
	return store.Job{ID: id, Queue: store.QueueInbound, BlobKey: blob.MessageKey(id),
		From: "carol@remote.test", To: []string{"alice@example.test"},
		ReceivedAt: time.Now().UTC().Truncate(time.Millisecond), ClientIP: "192.0.2.1", Helo: "remote.test"}
}

const body = "Subject: hi\r\n\r\nhello\r\n"

// TestSubmit: the object holds the body and the job's envelope, the job
// is queued, and submitting it again is a duplicate, not an error.
func TestSubmit(t *testing.T) {
	drivers(t, func(t *testing.T, blobs blob.Store, q queue) {
		ctx := t.Context()
		in := intake.Intake{Blobs: blobs, Queue: q}
		j := newJob()
		dup, err := in.Submit(ctx, j, strings.NewReader(body))
		if err != nil || dup {
			t.Fatalf("Submit = %v, %v; want a new job", dup, err)
		}
		if got := readObject(t, blobs, j.BlobKey); got != body {
			t.Errorf("object = %q, want %q", got, body)
		}
		st, err := blobs.Stat(ctx, j.BlobKey)
		if err != nil {
			t.Fatal(err)
		}
		mj, err := store.JobFromMeta(j.BlobKey, st.Meta)
		if err != nil || mj.ID != j.ID || mj.From != j.From || mj.To[0] != j.To[0] || mj.Queue != j.Queue {
			t.Errorf("job from the object's metadata = %+v, %v; want %+v", mj, err, j)
		}
		dup, err = in.Submit(ctx, j, strings.NewReader(body))
		if err != nil || !dup {
			t.Errorf("Submit again = %v, %v; want a duplicate", dup, err)
		}
		jobs, err := q.Claim(ctx, store.QueueInbound, "t", 10, 0, time.Minute)
		if err != nil || len(jobs) != 1 || jobs[0].ID != j.ID {
			t.Errorf("Claim = %v, %v; want the one job", jobs, err)
		}
	})
}

// TestObjectBeforeJob: when the job is enqueued its object is already
// there with the job's metadata (invariant 1), and a failed write
// enqueues nothing.
func TestObjectBeforeJob(t *testing.T) {
	drivers(t, func(t *testing.T, blobs blob.Store, q queue) {
		ctx := t.Context()
		checked := &checkingQueue{queue: q, blobs: blobs}
		in := intake.Intake{Blobs: blobs, Queue: checked}
		j := newJob()
		if _, err := in.Submit(ctx, j, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		if checked.seen != 1 || checked.err != nil {
			t.Errorf("at Enqueue: %d checks, %v", checked.seen, checked.err)
		}
		failed := newJob()
		in.Blobs = failingPut{blobs}
		if _, err := in.Submit(ctx, failed, strings.NewReader(body)); err == nil {
			t.Error("Submit with a failed write succeeded")
		}
		if known, err := q.JobKnown(ctx, failed.Queue, failed.ID); err != nil || known {
			t.Errorf("after a failed write JobKnown = %v, %v; want false", known, err)
		}
	})
}

// TestTemporaryFailureKeepsObject: an enqueue that failed for a reason
// that may pass leaves the object (the reconciler enqueues it), and
// Settle says the outcome is unknown.
func TestTemporaryFailureKeepsObject(t *testing.T) {
	drivers(t, func(t *testing.T, blobs blob.Store, q queue) {
		cause := errors.New("queue unreachable")
		in := intake.Intake{Blobs: blobs, Queue: q}
		j := submitFailing(t, in, failingQueue{q, cause, false})
		if got := readObject(t, blobs, j.BlobKey); got != body {
			t.Errorf("object after a failed enqueue = %q", got)
		}
		wantSettle(t, in, j, cause, intake.Unknown)
		if got := readObject(t, blobs, j.BlobKey); got != body {
			t.Errorf("object after Settle = %q", got)
		}
	})
}

// TestSettle: a permanent failure deletes the object; an enqueue that ran
// but reported a timeout, or found its job there, is queued.
func TestSettle(t *testing.T) {
	drivers(t, func(t *testing.T, blobs blob.Store, q queue) {
		ctx := t.Context()
		in := intake.Intake{Blobs: blobs, Queue: q}

		perm := fmt.Errorf("job refused: %w", store.ErrInvalid)
		refused := submitFailing(t, in, failingQueue{q, perm, false})
		wantSettle(t, in, refused, perm, intake.Dropped)
		if _, err := blobs.Stat(ctx, refused.BlobKey); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("object after a permanent failure: Stat = %v, want ErrNotFound", err)
		}

		timeout := fmt.Errorf("redis: enqueue: %w", context.DeadlineExceeded)
		stalled := submitFailing(t, in, failingQueue{q, timeout, true})
		wantSettle(t, in, stalled, timeout, intake.Queued)
		wantSettle(t, in, stalled, store.ErrExists, intake.Queued)
		if got := readObject(t, blobs, stalled.BlobKey); got != body {
			t.Errorf("object of a queued job = %q", got)
		}
	})
}

// TestSubmitNew: a job the queue knows is a duplicate and its body is not
// even opened, so doing the work again writes nothing.
func TestSubmitNew(t *testing.T) {
	drivers(t, func(t *testing.T, blobs blob.Store, q queue) {
		ctx := t.Context()
		in := intake.Intake{Blobs: blobs, Queue: q}
		j := newJob()
		opened := 0
		open := func(context.Context) (io.ReadCloser, error) {
			opened++
			return io.NopCloser(strings.NewReader(body)), nil
		}
		for i, want := range []bool{false, true} {
			dup, err := in.SubmitNew(ctx, j, open)
			if err != nil || dup != want {
				t.Errorf("SubmitNew #%d = %v, %v; want %v", i+1, dup, err, want)
			}
		}
		if opened != 1 {
			t.Errorf("body opened %d times, want 1", opened)
		}
		if got := readObject(t, blobs, j.BlobKey); got != body {
			t.Errorf("object = %q", got)
		}
	})
}

// wantSettle checks what Settle makes of an Enqueue of j that failed
// with cause.
func wantSettle(t *testing.T, in intake.Intake, j store.Job, cause error, want intake.Outcome) {
	t.Helper()
	if out, err := in.Settle(t.Context(), j, cause); out != want || err != nil {
		t.Errorf("Settle(%v) = %v, %v; want %v", cause, out, err, want)
	}
}

// submitFailing submits a new job through q, whose Enqueue fails, and
// returns the job.
func submitFailing(t *testing.T, in intake.Intake, q failingQueue) store.Job {
	t.Helper()
	in.Queue = q
	j := newJob()
	if _, err := in.Submit(t.Context(), j, strings.NewReader(body)); !errors.Is(err, q.err) {
		t.Fatalf("Submit = %v, want %v", err, q.err)
	}
	return j
}

func readObject(t *testing.T, blobs blob.Store, key string) string {
	t.Helper()
	rc, err := blobs.Get(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkingQueue checks, at each Enqueue, that the job's object exists and
// names the job.
type checkingQueue struct {
	queue
	blobs blob.Store
	seen  int
	err   error
}

func (q *checkingQueue) Enqueue(ctx context.Context, j store.Job) error {
	q.seen++
	st, err := q.blobs.Stat(ctx, j.BlobKey)
	if err != nil {
		q.err = fmt.Errorf("object of %s: %w", j.ID, err)
	} else if mj, err := store.JobFromMeta(j.BlobKey, st.Meta); err != nil || mj.ID != j.ID {
		q.err = fmt.Errorf("object of %s names %q (%v)", j.ID, mj.ID, err)
	}
	return q.queue.Enqueue(ctx, j)
}

// failingQueue fails every Enqueue with err, after enqueueing for real
// when ran is set (a store that stalled on its reply).
type failingQueue struct {
	queue
	err error
	ran bool
}

func (q failingQueue) Enqueue(ctx context.Context, j store.Job) error {
	if q.ran {
		if err := q.queue.Enqueue(ctx, j); err != nil {
			return err
		}
	}
	return q.err
}

// failingPut cannot write objects.
type failingPut struct{ blob.Store }

func (failingPut) Put(context.Context, string, io.Reader, map[string]string) (int64, error) {
	return 0, errors.New("disk on fire")
}
