package search_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/search/searchtest"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

var buckets atomic.Int64

// TestConformance runs the suite on the cloud deployment: Redis holds
// the mailboxes, the bucket the segments. Every other flush merges.
func TestConformance(t *testing.T) {
	rs := testenv.Redis(t)
	s3srv := testenv.S3(t)
	searchtest.Run(t, func(t *testing.T) searchtest.Env {
		ctx := context.Background()
		db, err := redis.Open(ctx, rs.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Client().FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		bs, err := s3.Open(ctx, s3srv.URL(fmt.Sprint("search", buckets.Add(1))),
			s3.Options{AccessKey: s3srv.AccessKey, SecretKey: s3srv.SecretKey, CreateBucket: true})
		if err != nil {
			t.Fatal(err)
		}
		w := &search.Writer{Blobs: bs, Store: db, MergeAt: 2}
		ix := &search.Index{Blobs: bs, Store: db, ListEvery: -1}
		return searchtest.Env{Store: db, Blobs: bs, Index: ix, Sink: w, Flush: w.Flush}
	})
}
