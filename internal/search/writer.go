package search

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults of the Writer's zero values.
const (
	DefaultBatch   = 512
	DefaultDelay   = 30 * time.Second
	DefaultIdle    = 250 * time.Millisecond
	DefaultMergeAt = 8
	// maxPending bounds the texts a Writer holds (the bucket failing):
	// beyond it the oldest are dropped, and searches read those messages.
	maxPending = 16384
	// Over busyPending texts or busyBytes of text pending, the largest
	// batches are written even while texts keep coming.
	busyPending = 4096
	busyBytes   = 32 << 20
)

var _ store.TextSink = (*Writer)(nil)

// Writer batches the texts of delivered and appended messages per user and
// writes each batch as a segment, when the process is idle: when no text
// was added for Idle. While texts keep coming, it writes a user's batch
// only when Batch texts are pending, or Delay after the first, or when
// the Writer holds more than busyPending texts or busyBytes of text (the
// largest batches first). After a write, a user with MergeAt segments or
// more has them merged into one (merge.go), but while texts keep coming
// only a user with 4×MergeAt: the others wait for the next idle moment.
// A text not yet in a segment is not lost to a search: the message it
// belongs to is read (see Index). Run must be running.
type Writer struct {
	Blobs   blob.Store
	Store   store.Mailboxes // which objects a user still holds, for merges
	Log     *slog.Logger
	Metrics *metrics.Metrics // nil: not counted
	Batch   int              // 0: DefaultBatch
	Delay   time.Duration    // 0: DefaultDelay
	Idle    time.Duration    // 0: DefaultIdle
	MergeAt int              // 0: DefaultMergeAt

	mu       sync.Mutex
	pending  map[string]*batch
	count    int
	bytes    int
	unmerged map[string]bool // users written to while busy, not merged since
	wake     chan struct{}
	last     atomic.Int64 // when a text was last added (unix ns)
}

type batch struct {
	docs  []doc
	bytes int
	since time.Time
}

func (w *Writer) init() {
	if w.pending == nil {
		w.pending = map[string]*batch{}
		w.unmerged = map[string]bool{}
		w.wake = make(chan struct{}, 1)
	}
}

// AddText queues the text of object key in userID's mailboxes.
func (w *Writer) AddText(userID, key string, t store.SearchText) {
	now := time.Now()
	w.last.Store(now.UnixNano())
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	b := w.pending[userID]
	if b == nil {
		b = &batch{since: now}
		w.pending[userID] = b
	}
	d := newDoc(key, t)
	b.docs = append(b.docs, d)
	b.bytes += d.size()
	w.count++
	w.bytes += d.size()
	if w.count > maxPending {
		// Drop the oldest batch: its messages are read by searches.
		var oldest string
		for u, ob := range w.pending {
			if oldest == "" || ob.since.Before(w.pending[oldest].since) {
				oldest = u
			}
		}
		w.count -= len(w.pending[oldest].docs)
		w.bytes -= w.pending[oldest].bytes
		delete(w.pending, oldest)
		w.log().Warn("search: too many texts waiting for the bucket, dropped a batch", slog.String("user_id", oldest))
	}
	w.gauge()
	if len(b.docs) >= w.batch() || w.count > busyPending || w.bytes > busyBytes {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Pending returns how many texts wait to be written, and since when the
// oldest of them has waited (zero without any): the index lag.
func (w *Writer) Pending() (n int, oldest time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.pending {
		if oldest.IsZero() || b.since.Before(oldest) {
			oldest = b.since
		}
	}
	return w.count, oldest
}

func (d *doc) size() int { return len(d.Key) + len(d.Head) + len(d.Body) }

// gauge sets the metrics of the pending texts (under mu); Run's every
// step does, so the age is at most Idle stale.
func (w *Writer) gauge() {
	if w.Metrics == nil {
		return
	}
	w.Metrics.SearchPending.Set(float64(w.count))
	var oldest time.Time
	for _, b := range w.pending {
		if oldest.IsZero() || b.since.Before(oldest) {
			oldest = b.since
		}
	}
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	w.Metrics.SearchPendingAge.Set(age)
}

func (w *Writer) batch() int {
	if w.Batch > 0 {
		return w.Batch
	}
	return DefaultBatch
}

func (w *Writer) delay() time.Duration {
	if w.Delay > 0 {
		return w.Delay
	}
	return DefaultDelay
}

func (w *Writer) idle() time.Duration {
	if w.Idle > 0 {
		return w.Idle
	}
	return DefaultIdle
}

// isIdle reports whether no text was added for Idle.
func (w *Writer) isIdle() bool {
	return time.Since(time.Unix(0, w.last.Load())) >= w.idle()
}

// Run writes batches until ctx ends, then what is left (within 10 s).
func (w *Writer) Run(ctx context.Context) error {
	w.mu.Lock()
	w.init()
	wake := w.wake
	w.mu.Unlock()
	tick := time.NewTicker(w.idle())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return w.Flush(fctx)
		case <-tick.C:
		case <-wake:
		}
		w.step(ctx)
	}
}

// step writes what is due: everything, and the merges that waited, when
// the process is idle; the batches over a bound otherwise.
func (w *Writer) step(ctx context.Context) {
	if w.isIdle() {
		w.write(ctx, true)
		w.mergeWaiting(ctx, false)
		return
	}
	w.write(ctx, false)
}

// Flush writes every pending batch now, and merges the segments of the
// users whose merges waited.
func (w *Writer) Flush(ctx context.Context) error {
	err := w.write(ctx, true)
	w.mergeWaiting(ctx, true)
	return err
}

// write writes the batches that are due (all of them with all, when the
// process is idle). A batch that fails is put back, to be tried again.
func (w *Writer) write(ctx context.Context, all bool) error {
	due := w.take(all)
	var errs []error
	for user, docs := range due {
		if err := w.writeSegment(ctx, user, docs); err != nil {
			w.log().Warn("search: writing a segment", slog.String("user_id", user), slog.Any("err", err))
			w.putBack(user, docs)
			errs = append(errs, err)
			continue
		}
		if err := w.maybeMerge(ctx, user, all); err != nil {
			w.log().Warn("search: merging segments", slog.String("user_id", user), slog.Any("err", err))
		}
	}
	return errors.Join(errs...)
}

// mergeWaiting merges the segments of the users written to while busy,
// as long as the process stays idle (always with force).
func (w *Writer) mergeWaiting(ctx context.Context, force bool) {
	for {
		if !force && !w.isIdle() {
			return
		}
		w.mu.Lock()
		var user string
		for u := range w.unmerged {
			user = u
			break
		}
		delete(w.unmerged, user)
		w.mu.Unlock()
		if user == "" {
			return
		}
		if err := w.maybeMerge(ctx, user, true); err != nil {
			w.log().Warn("search: merging segments", slog.String("user_id", user), slog.Any("err", err))
		}
	}
}

func (w *Writer) take(all bool) map[string][]doc {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	due := map[string][]doc{}
	now := time.Now()
	give := func(user string, b *batch) {
		due[user] = b.docs
		w.count -= len(b.docs)
		w.bytes -= b.bytes
		delete(w.pending, user)
	}
	for user, b := range w.pending {
		if all || len(b.docs) >= w.batch() || now.Sub(b.since) >= w.delay() {
			give(user, b)
		}
	}
	for w.count > busyPending || w.bytes > busyBytes {
		var largest string
		for u, b := range w.pending {
			if largest == "" || b.bytes > w.pending[largest].bytes {
				largest = u
			}
		}
		give(largest, w.pending[largest])
	}
	w.gauge()
	return due
}

func (w *Writer) putBack(user string, docs []doc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count+len(docs) > maxPending {
		return
	}
	b := w.pending[user]
	if b == nil {
		b = &batch{since: time.Now()}
		w.pending[user] = b
	}
	b.docs = append(docs, b.docs...)
	for i := range docs {
		b.bytes += docs[i].size()
		w.bytes += docs[i].size()
	}
	w.count += len(docs)
	w.gauge()
}

// writeSegment writes docs as a new segment of user.
func (w *Writer) writeSegment(ctx context.Context, user string, docs []doc) error {
	var buf bytes.Buffer
	if err := encodeSegment(&buf, docs); err != nil {
		return err
	}
	_, err := w.Blobs.Put(ctx, SegmentPrefix(user)+ulid.Make().String(), &buf, map[string]string{"segment": "search"})
	return err
}

func (w *Writer) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}
