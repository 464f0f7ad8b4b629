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
// entry's transaction and moved into FTS5 in batches) and cloud
// (testenv.Cloud: Redis and S3, the texts batched to segments in the
// bucket). The indexing left pending when the loop ends (staged texts, a
// Writer's batch) is done inside the timed part, so that ns/op carries
// all of it. cpu-ns/op is the process's CPU time (user and system, every
// goroutine) per delivery: on a machine that other work keeps busy it
// varies far less than the elapsed time, and it is what bounds the
// delivery rate when the cores are the limit. The servers' own CPU
// (redis-server, versitygw) is not in it.
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
			flush := func(context.Context) error { return nil }
			switch {
			case c.off:
			case c.cloud:
				sw := &search.Writer{Blobs: env.Blobs, Store: env.Store}
				wctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- sw.Run(wctx) }()
				defer func() { cancel(); <-done }()
				cfg.TextSink, flush = sw, sw.Flush
			default:
				flush = env.SQLite.IndexStaged
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
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := store.Job{ID: ulid.Make().String(), Queue: store.QueueInbound, BlobKey: keys[i%len(keys)],
					From: "sender@example.net", To: []string{u.Address}, ReceivedAt: time.Now()}
				if err := w.deliver(ctx, j); err != nil {
					b.Fatal(err)
				}
			}
			if err := flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
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
