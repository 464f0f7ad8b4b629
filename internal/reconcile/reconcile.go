// Package reconcile makes the bucket the record (invariant 2) and collects
// unreferenced message objects (invariant 4).
//
// The reconciler lists the recent msg/ objects after a checkpoint and
// re-enqueues every object whose job the queue does not know once a grace
// period has passed: an edge that crashed between writing the object and
// enqueueing its job, or an index store that lost its last writes, loses
// no mail. Delivery is idempotent (invariant 3), so a job and the
// reconciler firing for one message deliver it once.
//
// The collector deletes the objects whose last index entry went, a delay
// after that (so that a session still showing the message can fetch it,
// and a reindex from a snapshot that still refers to it finds it).
//
// Both run under a lease of the index store, so any number of workers may
// run a Reconciler and only one works at a time.
package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults for the zero values of Config.
const (
	DefaultGrace    = 5 * time.Minute
	DefaultInterval = time.Minute
	DefaultGCDelay  = time.Hour
	// DefaultLookBack bounds the listing when there is no checkpoint: older
	// objects were reconciled before, or are beyond store.DoneRetention.
	DefaultLookBack = 3 * 24 * time.Hour
	DefaultPageSize = 1000
)

// Names of the lease and checkpoint in the ledger.
const (
	LeaseName      = "reconcile"
	CheckpointName = "reconcile"
)

// Store is what the reconciler needs of the index store.
type Store interface {
	store.Queue
	store.Ledger
}

// Config configures a Reconciler. Store and Blobs are required.
type Config struct {
	Store Store
	Blobs blob.Store
	// Holder names this reconciler in the lease; default host-pid.
	Holder string
	// Grace is how old an object must be before the reconciler looks at
	// it: the edge enqueues within it. Default DefaultGrace.
	Grace time.Duration
	// Interval is the time between two passes of Run. Default DefaultInterval.
	Interval time.Duration
	// GCDelay is how long an object stays after its last reference went.
	// Default DefaultGCDelay.
	GCDelay time.Duration
	// LookBack bounds the first listing (no checkpoint yet); it must stay
	// below store.DoneRetention. Default DefaultLookBack.
	LookBack time.Duration
	// LeaseTTL is how long a pass holds the lease; default 3×Interval, at
	// least 30 s. Another holder takes over when it runs out.
	LeaseTTL time.Duration
	PageSize int              // objects per List; default DefaultPageSize
	Log      *slog.Logger     // default: discard
	Metrics  *metrics.Metrics // nil: not counted
	// Now is the clock; nil means time.Now. Tests move it forward.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Holder == "" {
		host, _ := os.Hostname()
		c.Holder = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.GCDelay <= 0 {
		c.GCDelay = DefaultGCDelay
	}
	if c.LookBack <= 0 {
		c.LookBack = DefaultLookBack
	}
	c.LookBack = min(c.LookBack, store.DoneRetention-24*time.Hour)
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = max(3*c.Interval, 30*time.Second)
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Reconciler re-enqueues lost jobs and collects orphaned objects.
type Reconciler struct {
	cfg     Config
	log     *slog.Logger
	counter *counter
	epoch   *Epoch
}

// New returns a Reconciler; nothing runs until Run or Once.
func New(cfg Config) *Reconciler {
	cfg = cfg.withDefaults()
	return &Reconciler{
		cfg:     cfg,
		log:     cfg.Log.With(slog.String("role", "reconciler")),
		counter: newCounter(cfg.Metrics),
		epoch:   NewEpoch(cfg.Store, cfg.Blobs, cfg.Holder),
	}
}

// Result says what one pass did.
type Result struct {
	Leased     bool   // false: another holder has the lease; nothing was done
	Scanned    int    // objects looked at
	Known      int    // objects whose job the queue knows
	NoJob      int    // objects without a job (IMAP APPEND) or with bad metadata
	Enqueued   int    // jobs re-enqueued
	Checkpoint string // the checkpoint after the pass
	Deleted    int    // orphaned objects deleted
	Kept       int    // scheduled objects referenced again, taken off the schedule
	Postponed  int    // scheduled objects whose job is still queued
}

// Run runs a pass every Interval until ctx ends; failures are logged and
// the next pass tries again. It returns nil when ctx ends.
func (r *Reconciler) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		res, err := r.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.report(ctx, res, err)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (r *Reconciler) report(ctx context.Context, res Result, err error) {
	level := slog.LevelDebug
	if res.Enqueued > 0 || res.Deleted > 0 {
		level = slog.LevelInfo
	}
	attrs := []slog.Attr{
		slog.Bool("leased", res.Leased), slog.Int("scanned", res.Scanned), slog.Int("enqueued", res.Enqueued),
		slog.Int("deleted", res.Deleted), slog.Int("kept", res.Kept), slog.Int("postponed", res.Postponed),
		slog.String("checkpoint", res.Checkpoint),
	}
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	r.log.LogAttrs(ctx, level, "reconcile pass", attrs...)
}

// Once runs one pass if it gets the lease and the index store still
// belongs to the bucket (see Epoch; else ErrIndexLost): the scan of recent
// objects, then the collection of orphaned objects. Errors of single objects do not
// stop the pass; they are joined into the returned error and the objects
// are looked at again next time.
func (r *Reconciler) Once(ctx context.Context) (Result, error) {
	var res Result
	ok, err := r.cfg.Store.TryLease(ctx, LeaseName, r.cfg.Holder, r.cfg.LeaseTTL)
	if err != nil || !ok {
		return res, err
	}
	res.Leased = true
	if err := r.epoch.Check(ctx); err != nil {
		return res, err // ErrIndexLost: touching nothing until reindex
	}
	now := r.cfg.Now()
	scanErr := r.scan(ctx, now, &res)
	gcErr := r.collect(ctx, now, &res)
	if scanErr != nil || gcErr != nil {
		return res, joinErrs(scanErr, gcErr)
	}
	return res, nil
}

// renew extends the lease during a long pass; losing it ends the pass.
func (r *Reconciler) renew(ctx context.Context) error {
	ok, err := r.cfg.Store.TryLease(ctx, LeaseName, r.cfg.Holder, r.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		return errLeaseLost
	}
	return nil
}
