package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults for the zero values of Config.
const (
	DefaultConcurrency = 4
	DefaultLease       = 15 * time.Second
	DefaultJobTimeout  = 5 * time.Minute
	DefaultRetryBase   = 30 * time.Second
	DefaultRetryMax    = time.Hour
	claimWait          = time.Second
)

// Store is the part of the index store a worker uses: the directory to
// resolve recipients, the mailboxes it delivers to, the inbound queue (and
// the queues its DSNs, forwards and replies go to), the release of an
// object no recipient kept, and the marks of vacation replies.
type Store interface {
	store.Directory
	store.Mailboxes
	store.Queue
	JobKnown(ctx context.Context, queue, id string) (bool, error)
	ReleaseBlob(ctx context.Context, key string) error
	store.Limiter
}

var _ Store = (store.Store)(nil)

// Config configures a Worker. Store, Blobs and Log are required.
type Config struct {
	Store       Store
	Blobs       blob.Store
	Hostname    string
	Consumer    string        // consumer name in the queue; defaults to Hostname
	Concurrency int           // delivery loops; 0 means DefaultConcurrency
	Lease       time.Duration // a claimed job's lease, renewed while it runs; 0 means DefaultLease
	// JobTimeout is the budget of one run of a job; 0 means
	// DefaultJobTimeout (see store.LoopConfig.Budget).
	JobTimeout time.Duration
	Log        *slog.Logger
	Metrics    *metrics.Metrics // nil: not counted

	// RetryBase is the delay before the second attempt of a job that failed
	// temporarily; it doubles with each attempt up to RetryMax. Zero values
	// mean DefaultRetryBase and DefaultRetryMax.
	RetryBase time.Duration
	RetryMax  time.Duration

	// Drain makes Run return nil once the queues are empty (see drain.go)
	// instead of waiting for its context to end: for scale-to-zero jobs
	// and function-style runs. DrainQueues are the queues that must be
	// empty (pending, in flight and delayed all 0); nil means the inbound
	// and the outbound queue (an outbound job with local recipients becomes
	// an inbound job, so inbound is only really empty when outbound is).
	Drain       bool
	DrainQueues []string

	// Checker, when not nil, evaluates SPF, DKIM and DMARC for every
	// message received on port 25 (a job without Auth): each copy gets an
	// Authentication-Results field, and a DMARC failure whose policy is
	// quarantine or reject is filed to Junk (see authcheck.go).
	Checker *authcheck.Checker

	// DefaultQuota is the storage quota of users without their own
	// (--default-quota, bytes); <= 0 means unlimited. See quota.go.
	DefaultQuota int64

	// SRS holds the keys that rewrite the envelope sender of forwarded
	// mail and verify bounces to SRS addresses (see forward.go). nil: mail
	// is forwarded with its sender unchanged, and mail to SRS addresses is
	// treated as mail to any unknown address.
	SRS *srs.Keyring
	// ForwardJunk forwards mail filed to Junk or failing SPF or DMARC too
	// (--forward-junk). By default such mail stays in the local mailboxes
	// of the alias, if any, and is not passed on.
	ForwardJunk bool

	// Sieve holds the users' Sieve scripts; the active one of each
	// recipient filters its mail (see sieve.go). nil: no filtering.
	Sieve *sievestore.Scripts
	// SieveTTL is how long a recipient's active script, once read, is
	// reused (see sieveactive.go): a change takes effect within it. 0
	// means DefaultSieveTTL; < 0 reads the store for every recipient.
	SieveTTL time.Duration

	// NoSearchIndex turns off the text extraction for the search index
	// (--search-index=false): searches then read the new messages.
	NoSearchIndex bool
	// TextSink takes the text of each delivered message for a search
	// index kept outside the Store (the cloud's segments); nil: none
	// (the SQLite store keeps NewMessage.Text itself).
	TextSink store.TextSink
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.SieveTTL == 0 {
		c.SieveTTL = DefaultSieveTTL
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.RetryBase <= 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.Consumer == "" {
		c.Consumer = c.Hostname
	}
	if c.Consumer == "" {
		c.Consumer = "worker"
	}
	if c.DrainQueues == nil {
		c.DrainQueues = []string{store.QueueInbound, store.QueueOutbound}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}
