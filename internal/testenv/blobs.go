package testenv

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// CountingBlobs is a blob store that counts its Gets and the bytes read
// through them: a test proves with it that listing reads no object
// (invariant 5), or how often and how much of an object is read.
type CountingBlobs struct {
	blob.Store
	gets  atomic.Int64
	bytes atomic.Int64
}

func (c *CountingBlobs) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	c.gets.Add(1)
	rc, err := c.Store.Get(ctx, key, off, length)
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, n: &c.bytes}, nil
}

// Gets is how many Gets there were so far.
func (c *CountingBlobs) Gets() int64 { return c.gets.Load() }

// Bytes is how many bytes were read through Gets so far.
func (c *CountingBlobs) Bytes() int64 { return c.bytes.Load() }

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}
