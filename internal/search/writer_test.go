package search

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// writerEnv is a cloud deployment (Redis, S3) with a user whose INBOX
// gets entries; add enters one and hands its text to w.
type writerEnv struct {
	t             *testing.T
	env           *testenv.Env
	user, mailbox string
}

func newWriterEnv(t *testing.T) *writerEnv {
	env := testenv.Cloud(t)
	u := env.User("a@example.org")
	if err := env.Store.EnsureUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := env.Store.Mailbox(t.Context(), u.ID, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	return &writerEnv{t: t, env: env, user: u.ID, mailbox: inbox.ID}
}

func (e *writerEnv) add(w *Writer, i int) {
	e.t.Helper()
	key := fmt.Sprintf("msg/%04d", i)
	if _, _, err := e.env.Store.InsertMessage(e.t.Context(), e.user, e.mailbox, "", store.NewMessage{BlobKey: key, Size: 1}); err != nil {
		e.t.Fatal(err)
	}
	w.AddText(e.user, key, store.SearchText{Body: fmt.Sprintf("word%04d common", i)})
}

// search returns the index's hits and unknown UIDs (those the caller
// reads: the scan fallback) for pattern.
func (e *writerEnv) search(pattern string) (hits, unknown []uint32) {
	e.t.Helper()
	ix := &Index{Blobs: e.env.Blobs, Store: e.env.Store, ListEvery: -1}
	hits, unknown, err := ix.SearchText(e.t.Context(), e.user, e.mailbox, pattern, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return hits, unknown
}

func (e *writerEnv) segments() int {
	e.t.Helper()
	keys, err := listSegments(e.t.Context(), e.env.Blobs, e.user)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(keys)
}

func (w *Writer) pendingTexts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}

func (w *Writer) mergesWaiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.unmerged)
}

// poll waits until cond holds (60 s at most).
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func uids(from, to int) []uint32 {
	var out []uint32
	for i := from; i < to; i++ {
		out = append(out, uint32(i+1))
	}
	return out
}

// TestWriterBusy: a Writer that is never idle (each step is what Run
// does when woken) writes a user's batch when Batch texts are pending,
// and merges the user's segments only once there are 4×MergeAt; a text
// still pending is left to the caller's scan (unknown), as it is after a
// crash (the Index reads only the bucket); a Flush, what Run does when it
// ends, writes the rest and does the merge that waited.
func TestWriterBusy(t *testing.T) {
	e := newWriterEnv(t)
	m := metrics.New()
	w := &Writer{Blobs: e.env.Blobs, Store: e.env.Store, Metrics: m, Batch: 16, MergeAt: 2, Idle: time.Hour, Delay: time.Hour}
	for i := range 164 {
		e.add(w, i)
		if i%16 == 15 {
			if len(w.wake) != 1 {
				t.Fatalf("a full batch did not wake Run")
			}
			<-w.wake
			w.step(t.Context())
		}
		if i == 16*7-1 {
			// 7 segments of 16: an idle Writer would not merge them
			// either (none is small), a busy one waits for 8.
			if n := e.segments(); n != 7 {
				t.Fatalf("%d segments after 7 batches, want 7", n)
			}
		}
	}
	if n := w.pendingTexts(); n != 4 {
		t.Fatalf("%d texts pending, want 4 (a batch is 16)", n)
	}
	if n, oldest := w.Pending(); n != 4 || oldest.IsZero() || gaugeValue(t, m.SearchPending) != 4 {
		t.Fatalf("Pending %d, %v; gauge %v; want 4", n, oldest, gaugeValue(t, m.SearchPending))
	}
	// The 8th batch merged all 8 (4×MergeAt); the 9th and 10th are
	// small next to that, and would be merged by an idle Writer.
	if n, waiting := e.segments(), w.mergesWaiting(); n != 3 || waiting != 1 {
		t.Fatalf("%d segments, %d users waiting for a merge; want 3, 1", n, waiting)
	}
	hits, unknown := e.search("COMMON")
	if !slices.Equal(hits, uids(0, 160)) || !slices.Equal(unknown, uids(160, 164)) {
		t.Fatalf("common: hits %v, unknown %v; want 1-160, 161-164", hits, unknown)
	}
	hits, unknown = e.search("word0162")
	if len(hits) != 0 || !slices.Contains(unknown, 163) {
		t.Fatalf("word0162: hits %v, unknown %v; want 163 left to the scan", hits, unknown)
	}

	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, waiting := e.segments(), w.mergesWaiting(); w.pendingTexts() != 0 || n != 2 || waiting != 0 {
		t.Fatalf("after a flush: %d texts pending, %d segments, %d waiting; want 0, 2, 0", w.pendingTexts(), n, waiting)
	}
	if p, a := gaugeValue(t, m.SearchPending), gaugeValue(t, m.SearchPendingAge); p != 0 || a != 0 {
		t.Fatalf("after a flush: pending gauge %v, age %v; want 0, 0", p, a)
	}
	hits, unknown = e.search("COMMON")
	if !slices.Equal(hits, uids(0, 164)) || len(unknown) != 0 {
		t.Fatalf("common after a flush: hits %v, unknown %v", hits, unknown)
	}
}

// TestWriterIdle: texts added in a burst, fewer than a Batch and with a
// Delay that never comes, are written once no text came for Idle.
func TestWriterIdle(t *testing.T) {
	e := newWriterEnv(t)
	w := &Writer{Blobs: e.env.Blobs, Store: e.env.Store, Idle: 100 * time.Millisecond, Delay: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := range 50 {
		e.add(w, i)
	}
	poll(t, "written when idle", func() bool { return w.pendingTexts() == 0 && e.segments() > 0 })
	hits, unknown := e.search("COMMON")
	if !slices.Equal(hits, uids(0, 50)) || len(unknown) != 0 {
		t.Fatalf("common: hits %v, unknown %v", hits, unknown)
	}
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
