package search

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults of the Writer's zero values.
const (
	DefaultBatch   = 64
	DefaultDelay   = 2 * time.Second
	DefaultMergeAt = 8
	// maxPending bounds the texts a Writer holds (the bucket failing):
	// beyond it the oldest are dropped, and searches read those messages.
	maxPending = 16384
)

var _ store.TextSink = (*Writer)(nil)

// Writer batches the texts of delivered and appended messages per user and
// writes each batch as a segment: when Batch texts of a user are pending,
// or Delay after the first. After a write, a user with MergeAt segments
// or more has them merged into one (merge.go). Run must be running.
type Writer struct {
	Blobs   blob.Store
	Store   store.Mailboxes // which objects a user still holds, for merges
	Log     *slog.Logger
	Metrics *metrics.Metrics // nil: not counted
	Batch   int              // 0: DefaultBatch
	Delay   time.Duration    // 0: DefaultDelay
	MergeAt int              // 0: DefaultMergeAt

	mu      sync.Mutex
	pending map[string]*batch
	count   int
	wake    chan struct{}
}

type batch struct {
	docs  []doc
	since time.Time
}

func (w *Writer) init() {
	if w.pending == nil {
		w.pending = map[string]*batch{}
		w.wake = make(chan struct{}, 1)
	}
}

// AddText queues the text of object key in userID's mailboxes.
func (w *Writer) AddText(userID, key string, t store.SearchText) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	b := w.pending[userID]
	if b == nil {
		b = &batch{since: time.Now()}
		w.pending[userID] = b
	}
	b.docs = append(b.docs, newDoc(key, t))
	w.count++
	if w.count > maxPending {
		// Drop the oldest batch: its messages are read by searches.
		var oldest string
		for u, ob := range w.pending {
			if oldest == "" || ob.since.Before(w.pending[oldest].since) {
				oldest = u
			}
		}
		w.count -= len(w.pending[oldest].docs)
		delete(w.pending, oldest)
		w.log().Warn("search: too many texts waiting for the bucket, dropped a batch", slog.String("user_id", oldest))
	}
	w.gauge()
	if len(b.docs) >= w.batch() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *Writer) gauge() {
	if w.Metrics != nil {
		w.Metrics.SearchPending.Set(float64(w.count))
	}
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

// Run writes batches until ctx ends, then what is left (within 10 s).
func (w *Writer) Run(ctx context.Context) error {
	w.mu.Lock()
	w.init()
	wake := w.wake
	w.mu.Unlock()
	tick := time.NewTicker(w.delay() / 4)
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
		w.write(ctx, false)
	}
}

// Flush writes every pending batch now.
func (w *Writer) Flush(ctx context.Context) error {
	return w.write(ctx, true)
}

// write writes the batches that are full or old enough (all of them with
// all). A batch that fails is put back, to be tried again.
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
		if err := w.maybeMerge(ctx, user); err != nil {
			w.log().Warn("search: merging segments", slog.String("user_id", user), slog.Any("err", err))
		}
	}
	return errors.Join(errs...)
}

func (w *Writer) take(all bool) map[string][]doc {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	due := map[string][]doc{}
	now := time.Now()
	for user, b := range w.pending {
		if all || len(b.docs) >= w.batch() || now.Sub(b.since) >= w.delay() {
			due[user] = b.docs
			w.count -= len(b.docs)
			delete(w.pending, user)
		}
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
