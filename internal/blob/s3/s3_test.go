package s3_test

import (
	"context"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/blobtest"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// open opens a store on a new bucket of srv.
func open(t testing.TB, srv *testenv.S3Server, opt s3.Options) *s3.Store {
	st, _ := openBucket(t, srv, opt)
	return st
}

// openBucket opens a store on a new bucket of srv and returns its name.
func openBucket(t testing.TB, srv *testenv.S3Server, opt s3.Options) (*s3.Store, string) {
	t.Helper()
	opt.AccessKey, opt.SecretKey = srv.AccessKey, srv.SecretKey
	bucket := srv.Bucket(t, "")
	st, err := s3.Open(context.Background(), srv.URL(bucket), opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st, bucket
}

// TestConformance runs the blob suite on versitygw, one bucket per test.
func TestConformance(t *testing.T) {
	srv := testenv.S3(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return open(t, srv, s3.Options{})
	})
}

func BenchmarkVersitygw(b *testing.B) {
	srv := testenv.S3(b)
	blobtest.Bench(b, open(b, srv, s3.Options{}))
}

// TestRangedReads: Get asks for the range (a Range header), so only the
// range comes over the network.
func TestRangedReads(t *testing.T) {
	srv := testenv.S3(t)
	m := metrics.New()
	st := open(t, srv, s3.Options{Metrics: m})
	blobtest.RangedReads(t, st, func() float64 {
		var out dto.Metric
		if err := m.BlobReadBytes.WithLabelValues("s3").Write(&out); err != nil {
			t.Fatal(err)
		}
		return out.GetCounter().GetValue()
	})
}
