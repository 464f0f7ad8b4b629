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

	// State is the consumer's own record of the job across attempts
	// (opaque to the queue): Claim returns what SaveState, Retry, Ack or
	// Bury last stored. It lives as long as the job: an acked job's state
	// is kept with its done record for DoneRetention (a job enqueued
	// again with the same id in that time starts with it), then deleted.
	State string
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
//
// A claim is fenced by Job.Attempts: Renew, SaveState, Ack, Retry and Bury
// fail with ErrNotFound once the job was claimed again (its lease ran out
// and another consumer took it), was buried or is gone, so a stale holder
// never touches the new claim.
type Queue interface {
	// Enqueue adds j to j.Queue. When it returns nil the job is durable.
	Enqueue(ctx context.Context, j Job) error
	// Claim hands out up to max ready jobs of queue to consumer, leased for
	// lease. It waits up to wait for at least one job; it returns an empty
	// slice, not an error, when none came.
	Claim(ctx context.Context, queue, consumer string, max int, wait, lease time.Duration) ([]Job, error)
	// Renew extends the lease of a job the caller holds to lease from
	// now, so that a job may run longer than one lease while its holder
	// lives (a heartbeat).
	Renew(ctx context.Context, j Job, lease time.Duration) error
	// SaveState stores j.State while the caller holds j.
	SaveState(ctx context.Context, j Job) error
	// Ack removes a finished job (keeping j.State, see Job.State).
	Ack(ctx context.Context, j Job) error
	// Retry releases j to be claimed again at or after at, with j.State.
	Retry(ctx context.Context, j Job, at time.Time, reason string) error
	// Bury moves j, with j.State, to the dead-letter list of its queue.
	Bury(ctx context.Context, j Job, reason string) error
	QueueStats(ctx context.Context, queue string) (QueueStats, error)
	// DeadJobs lists up to limit dead-lettered jobs of queue, oldest first.
	DeadJobs(ctx context.Context, queue string, limit int) ([]Job, error)
}
