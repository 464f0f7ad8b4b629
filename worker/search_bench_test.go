package worker

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/search/searchtest"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// BenchmarkDeliverSearchIndex measures one local delivery of a 5 KB
// multipart/alternative message (searchtest.Corpus) with the text index
// on and off: embedded (SQLite, FTS5 in the entry's transaction) and
// cloud (Redis, texts batched to segments in the blob store).
func BenchmarkDeliverSearchIndex(b *testing.B) {
	for _, c := range []struct {
		name  string
		cloud bool
		off   bool
	}{{"embedded-off", false, true}, {"embedded-on", false, false}, {"cloud-off", true, true}, {"cloud-on", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			blobs, err := fs.Open(filepath.Join(dir, "blobs"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			var st store.Store
			if c.cloud {
				db, err := redis.Open(ctx, testenv.Redis(b).URL())
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				st = db
			} else {
				db, err := sqlite.Open(filepath.Join(dir, "index.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				st = db
			}
			if err := st.AddDomain(ctx, "example.com"); err != nil {
				b.Fatal(err)
			}
			if _, err := st.AddUser(ctx, "alice@example.com", "x"); err != nil {
				b.Fatal(err)
			}
			cfg := Config{Store: st, Blobs: blobs, Hostname: "test", NoSearchIndex: c.off,
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			if c.cloud && !c.off {
				sw := &search.Writer{Blobs: blobs, Store: st}
				wctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- sw.Run(wctx) }()
				defer func() { cancel(); <-done }()
				cfg.TextSink = sw
			}
			w := New(cfg)
			i := 0
			for b.Loop() {
				b.StopTimer()
				id := ulid.Make().String()
				if _, err := blobs.Put(ctx, blob.MessageKey(id), strings.NewReader(searchtest.Corpus(i)), nil); err != nil {
					b.Fatal(err)
				}
				i++
				j := store.Job{ID: id, Queue: store.QueueInbound, BlobKey: blob.MessageKey(id),
					From: "sender@example.net", To: []string{"alice@example.com"}, ReceivedAt: time.Now()}
				b.StartTimer()
				if err := w.deliver(ctx, j); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
