package store

import (
	"math/rand/v2"
	"time"
)

// Backoff is the delay before the next try of a job that failed
// temporarily on its attempts-th claim: base doubling with each attempt,
// capped at max, with ±20 % jitter so that jobs failing together do not
// come back together. The inbound worker and the outbound sender both use
// it.
func Backoff(base, max time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) * 2
	return d - d/5 + jitter
}
