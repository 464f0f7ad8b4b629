package edge

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/worker"
)

// stalledQueue enqueues in the real store, then reports a timeout, as a
// client does when Redis ran the enqueue but stalled before answering.
type stalledQueue struct{ *sqlite.DB }

func (q stalledQueue) Enqueue(ctx context.Context, j store.Job) error {
	if err := q.DB.Enqueue(ctx, j); err != nil {
		return err
	}
	return fmt.Errorf("redis: enqueue: %w", context.DeadlineExceeded)
}

// TestEnqueueStall: the edge asks the store after an enqueue that timed
// out, finds the job and answers 250; the object stays, the message is
// delivered once and nothing is dead-lettered.
func TestEnqueueStall(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Queue = stalledQueue{c.Queue.(*sqlite.DB)} })
	c := e.dial(MX, false)
	if _, err := send(c, "carol@remote.test", []string{alice}, testMessage); err != nil {
		t.Fatalf("send after a stalled enqueue: %v\n%s", err, e.logs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := worker.New(worker.Config{Store: e.db, Blobs: e.blobs, Hostname: testHostname, Concurrency: 1, Drain: true})
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	mb, err := e.db.Mailbox(ctx, e.alice.ID, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if mb.Messages != 1 {
		t.Errorf("alice's INBOX holds %d messages, want 1", mb.Messages)
	}
	for _, q := range []string{store.QueueInbound, store.QueueOutbound} {
		if dead, err := e.db.DeadJobs(ctx, q, 0); err != nil || len(dead) != 0 {
			t.Errorf("dead letters of %s: %+v, %v", q, dead, err)
		}
	}
	if objs := e.objects(); len(objs) != 1 {
		t.Errorf("objects: %v, want the message's", objs)
	}
}
