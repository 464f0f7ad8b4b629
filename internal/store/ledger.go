package store

import (
	"context"
	"time"
)

// Ledger keeps the small records that let any number of workers repair the
// index from the bucket (invariant 2) and collect unreferenced objects.
type Ledger interface {
	// JobKnown reports whether queue id was enqueued on queue and is still
	// pending, in flight, delayed or dead, or was acked within the last
	// DoneRetention. The reconciler re-enqueues objects whose job is unknown.
	JobKnown(ctx context.Context, queue, id string) (bool, error)
	// JobQueued reports whether queue id is still in queue: pending, in
	// flight, delayed or dead, but not acked. The object collector keeps
	// the object of such a job, whose delivery may not be finished, even
	// when an entry delivered from it to one recipient was expunged before
	// the delivery to another was done.
	JobQueued(ctx context.Context, queue, id string) (bool, error)

	// TryLease takes or renews the lease name for holder until ttl has
	// passed. It returns false while another holder's lease is valid.
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// Checkpoint returns the value last saved under name, or "".
	Checkpoint(ctx context.Context, name string) (string, error)
	SetCheckpoint(ctx context.Context, name, value string) error
	// DeleteCheckpoint removes name (nothing if it is absent).
	DeleteCheckpoint(ctx context.Context, name string) error
	// CheckpointNames lists the names that start with prefix, in no
	// particular order (a migration's sweep; not for hot paths).
	CheckpointNames(ctx context.Context, prefix string) ([]string, error)

	// ScheduleBlobDeletes records that keys lost their last reference and
	// may be deleted at or after at. Scheduling a key twice keeps the later
	// time. Mailboxes calls schedule the keys whose last reference they drop
	// themselves (see Mailboxes); the collector uses this to postpone.
	ScheduleBlobDeletes(ctx context.Context, keys []string, at time.Time) error
	// ReleaseBlob says that the caller is done with the object key, which it
	// held without an index entry (the object of a job none of whose
	// recipients kept it): if no index entry references key, its deletion is
	// scheduled now; otherwise nothing changes, and the call that drops the
	// last reference schedules it. Count and schedule are one atomic step
	// where the driver can make them one (not on a Redis Cluster: a
	// reference taken in between leaves a referenced key scheduled, which
	// the collector takes off the schedule).
	ReleaseBlob(ctx context.Context, key string) error
	// DueBlobDeletes returns up to limit keys whose time has come.
	DueBlobDeletes(ctx context.Context, now time.Time, limit int) ([]string, error)
	// ForgetBlobDelete removes key from the schedule.
	ForgetBlobDelete(ctx context.Context, key string) error
	// BlobRefs returns how many index entries reference key now.
	BlobRefs(ctx context.Context, key string) (int64, error)
}

// DoneRetention is how long a driver remembers acked job ids for JobKnown,
// and their Job.State. It must exceed the reconciler's look-back window.
// (Both drivers have SetDoneRetention for tests.)
const DoneRetention = 7 * 24 * time.Hour
