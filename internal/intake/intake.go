// Package intake puts a message into the system: it writes the message
// object with its job's envelope as metadata, then enqueues the job.
// Every producer goes through it (the SMTP edge, delivery notices,
// forwarded copies, the outbound sender's local hand-back, the reconciler
// and the reindexer), so the order that DESIGN.md invariants 1 and 2 ask
// for is kept in one place: a job is enqueued only once its object is
// durable, and an object always names the job that delivers it.
package intake

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Queue is the part of the store intake uses.
type Queue interface {
	Enqueue(ctx context.Context, j store.Job) error
	JobKnown(ctx context.Context, queue, id string) (bool, error)
}

// Intake writes message objects to Blobs and enqueues their jobs on Queue.
// Observe, when not nil, times each storage call: it is called with the
// backend ("blob", "store") and the operation, and the function it
// returns when the call ends.
type Intake struct {
	Blobs   blob.Store
	Queue   Queue
	Observe func(backend, op string) (done func())
}

// Put writes body as the object of j, with j's envelope as its metadata
// (invariant 2: the bucket is the record), and returns the bytes written.
func (in Intake) Put(ctx context.Context, j store.Job, body io.Reader) (int64, error) {
	defer in.observe("blob", "put")()
	return in.Blobs.Put(ctx, j.BlobKey, body, store.JobMeta(j))
}

// Enqueue enqueues j, whose object is written. duplicate reports that the
// queue had j already (store.ErrExists): the job is queued, by an earlier
// call, and that is not an error.
func (in Intake) Enqueue(ctx context.Context, j store.Job) (duplicate bool, err error) {
	defer in.observe("store", "enqueue")()
	err = in.Queue.Enqueue(ctx, j)
	if errors.Is(err, store.ErrExists) {
		return true, nil
	}
	return false, err
}

// Submit writes body as the object of j, then enqueues j (invariant 1).
// A failed enqueue leaves the object: its job may exist after all, and if
// it does not the reconciler enqueues it from the object's metadata.
func (in Intake) Submit(ctx context.Context, j store.Job, body io.Reader) (duplicate bool, err error) {
	if _, err := in.Put(ctx, j, body); err != nil {
		return false, fmt.Errorf("intake: writing %s: %w", j.BlobKey, err)
	}
	duplicate, err = in.Enqueue(ctx, j)
	if err != nil {
		return false, fmt.Errorf("intake: enqueueing %s: %w", j.ID, err)
	}
	return duplicate, nil
}

// SubmitNew is Submit for a message whose id is derived from what made it
// (a notice, a forwarded copy), so that doing the work again gives the
// same job: if the queue knows j it reports a duplicate without writing
// anything, else it writes the object from open and enqueues j.
func (in Intake) SubmitNew(ctx context.Context, j store.Job, open func(context.Context) (io.ReadCloser, error)) (duplicate bool, err error) {
	known, err := in.known(ctx, j)
	if err != nil || known {
		return known, err
	}
	body, err := open(ctx)
	if err != nil {
		return false, err
	}
	defer body.Close()
	return in.Submit(ctx, j, body)
}

func (in Intake) known(ctx context.Context, j store.Job) (bool, error) {
	known, err := in.Queue.JobKnown(ctx, j.Queue, j.ID)
	if err != nil {
		return false, fmt.Errorf("intake: looking up %s: %w", j.ID, err)
	}
	return known, nil
}

func (in Intake) observe(backend, op string) func() {
	if in.Observe == nil {
		return func() {}
	}
	return in.Observe(backend, op)
}

// Outcome is what an Enqueue that failed left behind.
type Outcome int

// Outcomes of Settle.
const (
	// Unknown: the job may or may not exist. The object stays: if the job
	// does not exist, the reconciler enqueues it (invariant 2).
	Unknown Outcome = iota
	// Queued: the job exists after all.
	Queued
	// Dropped: the job certainly does not exist (a permanent error) and
	// the object was deleted, so that nothing delivers it later.
	Dropped
)

// Settle decides what an Enqueue of j that failed with err did. A timeout
// can come after the store ran the enqueue (Redis stalled on its reply):
// the job id is the object's, so the queue is asked. ctx should outlive
// the caller's (a Close may be why Enqueue failed). The error is that of
// the lookup or the deletion, for the log; the outcome stands either way.
func (in Intake) Settle(ctx context.Context, j store.Job, err error) (Outcome, error) {
	if errors.Is(err, store.ErrExists) {
		return Queued, nil
	}
	if fault.IsPermanent(err) {
		return Dropped, in.Delete(ctx, j)
	}
	known, lerr := in.known(ctx, j)
	if lerr != nil || !known {
		return Unknown, lerr
	}
	return Queued, nil
}

// Delete removes the object of j, whose job was not enqueued: the
// reconciler would otherwise deliver a message its sender was told to
// send again.
func (in Intake) Delete(ctx context.Context, j store.Job) error {
	defer in.observe("blob", "delete")()
	if err := in.Blobs.Delete(ctx, j.BlobKey); err != nil {
		return fmt.Errorf("intake: deleting %s: %w", j.BlobKey, err)
	}
	return nil
}
