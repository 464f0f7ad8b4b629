package s3

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/bucketmail/bucketmail/internal/fault"
)

// Backoff between our attempts; minio-go also retries each request a few
// times with its own backoff before we see an error.
const (
	retryBase = 100 * time.Millisecond
	retryCap  = 2 * time.Second
)

// retry calls f, which returns classified errors, until it succeeds, fails
// permanently, ctx ends or s.attempts tries are spent. Only idempotent
// calls go through retry.
func (s *Store) retry(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || fault.IsPermanent(err) || attempt+1 >= s.attempts || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// backoff is the wait before retry attempt+1: exponential, capped, with
// "equal jitter" (half fixed, half random) so that many clients that failed
// together do not come back together.
func backoff(attempt int) time.Duration {
	d := min(retryBase<<attempt, retryCap)
	return d/2 + rand.N(d/2+1)
}
