package store

import (
	"context"
	"time"
)

// Queue names.
const (
	QueueInbound  = "inbound"  // local delivery (the MDA)
	QueueOutbound = "outbound" // delivery to remote hosts
)

// MaxAttempts is how often a job is tried before it is dead-lettered.
const MaxAttempts = 10

// Job is one message to deliver. The message object carries the same
// envelope as metadata (invariant 2), so a job can be rebuilt from the bucket.
type Job struct {
	ID         string // queue id; also the ULID of the object key msg/<ID>
	Queue      string
	BlobKey    string
	From       string   // envelope sender; "" for the null sender
	To         []string // envelope recipients
	ReceivedAt time.Time
	ClientIP   string
	Helo       string
	Auth       string // authenticated submitter's address, "" on port 25

	Attempts  int       // set by Claim: how many times this job was claimed, this claim included
	LastError string    // reason given to the last Retry
	NotBefore time.Time // set by Retry
}

// QueueStats counts the jobs of one queue by state.
type QueueStats struct {
	Pending  int // ready to be claimed
	InFlight int // claimed, lease not expired
	Delayed  int // waiting for a retry time
	Dead     int // dead-lettered
}

// Queue is an at-least-once job queue. A claimed job that is neither acked,
// retried nor buried before its lease ends is handed out again, so a worker
// killed mid-job loses nothing; delivery is idempotent (invariant 3).
type Queue interface {
	// Enqueue adds j to j.Queue. When it returns nil the job is durable.
	Enqueue(ctx context.Context, j Job) error
	// Claim hands out up to max ready jobs of queue to consumer, leased for
	// lease. It waits up to wait for at least one job; it returns an empty
	// slice, not an error, when none came.
	Claim(ctx context.Context, queue, consumer string, max int, wait, lease time.Duration) ([]Job, error)
	// Ack removes a finished job.
	Ack(ctx context.Context, j Job) error
	// Retry releases j to be claimed again at or after at.
	Retry(ctx context.Context, j Job, at time.Time, reason string) error
	// Bury moves j to the dead-letter list of its queue.
	Bury(ctx context.Context, j Job, reason string) error
	QueueStats(ctx context.Context, queue string) (QueueStats, error)
	// DeadJobs lists up to limit dead-lettered jobs of queue, oldest first.
	DeadJobs(ctx context.Context, queue string, limit int) ([]Job, error)
}
