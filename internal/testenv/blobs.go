package testenv

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// CountingBlobs is a blob store that counts its Gets: a test proves with
// it that listing reads no object (invariant 5), or how often an object
// is read.
type CountingBlobs struct {
	blob.Store
	gets atomic.Int64
}

func (c *CountingBlobs) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key, off, length)
}

// Gets is how many Gets there were so far.
func (c *CountingBlobs) Gets() int64 { return c.gets.Load() }
