package worker

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/search/searchtest"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// BenchmarkDeliverSearchIndex measures the local delivery of a 5 KB
// multipart/alternative message (searchtest.Corpus) with the text index
// on and off: embedded (testenv.Embedded: SQLite, the text staged in the
// entry's transaction and moved into FTS5 by the mover when the writer is
// idle) and cloud (testenv.Cloud: Redis and S3, the texts batched to
// segments in the bucket by a Writer, when it is idle). cpu-ns/op is the
// process's CPU time (user and system, every goroutine) per delivery, and
// msg/s the deliveries per second, of the timed loop: on a machine that
// other work keeps busy the CPU time varies far less than the elapsed
// time, and it is what bounds the delivery rate when the cores are the
// limit. The servers' own CPU (redis-server, versitygw) is not in it.
// The indexing left pending when the loop ends (staged texts, a Writer's
// batches) is then left to drain by itself, untimed: drain-ms is how long
// that took after the loop, and drain-cpu-ns/op its CPU time per
// delivery.
func BenchmarkDeliverSearchIndex(b *testing.B) {
	for _, c := range []struct {
		name  string
		cloud bool
		off   bool
	}{{"embedded-off", false, true}, {"embedded-on", false, false}, {"cloud-off", true, true}, {"cloud-on", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			e := testenv.Embedded
			if c.cloud {
				e = testenv.Cloud
			}
			env := e(b)
			u := env.User("alice@example.com")
			cfg := Config{Store: env.Store, Blobs: env.Blobs, Hostname: "test", NoSearchIndex: c.off,
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			// drained reports whether the indexing has caught up.
			drained := func() (bool, error) { return true, nil }
			switch {
			case c.off:
			case c.cloud:
				sw := &search.Writer{Blobs: env.Blobs, Store: env.Store}
				wctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- sw.Run(wctx) }()
				defer func() { cancel(); <-done }()
				cfg.TextSink = sw
				drained = func() (bool, error) {
					n, _ := sw.Pending()
					if n > 0 {
						return false, nil
					}
					// The merges that waited.
					return true, sw.Flush(ctx)
				}
			default:
				drained = func() (bool, error) {
					n, _, err := env.SQLite.SearchBacklog(ctx)
					return n == 0, err
				}
			}
			w := New(cfg)
			// A pool of objects, each delivered by many jobs (the store
			// counts the references): no object is written in the loop.
			keys := make([]string, 64)
			for i := range keys {
				keys[i] = blob.MessageKey(ulid.Make().String())
				if _, err := env.Blobs.Put(ctx, keys[i], strings.NewReader(searchtest.Corpus(i)), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu := cpuTime()
			start := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := store.Job{ID: ulid.Make().String(), Queue: store.QueueInbound, BlobKey: keys[i%len(keys)],
					From: "sender@example.net", To: []string{u.Address}, ReceivedAt: time.Now()}
				if err := w.deliver(ctx, j); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			elapsed, loopCPU := time.Since(start), cpuTime()-cpu
			b.ReportMetric(float64(loopCPU)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
			cpu, start = cpuTime(), time.Now()
			for {
				ok, err := drained()
				if err != nil {
					b.Fatal(err)
				}
				if ok {
					break
				}
				if time.Since(start) > 10*time.Minute {
					b.Fatal("the index did not catch up in 10 minutes")
				}
				time.Sleep(10 * time.Millisecond)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "drain-ms")
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "drain-cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
