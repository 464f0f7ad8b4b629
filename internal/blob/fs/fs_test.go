package fs

import (
	"sync"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/blobtest"
)

func open(t testing.TB) *Store {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	blobtest.Bench(b, open(b))
}

// TestRangedReads: Get seeks to the range and reads only it.
func TestRangedReads(t *testing.T) {
	s := open(t)
	c := &counter{}
	s.CountReads(c)
	blobtest.RangedReads(t, s, c.get)
}

type counter struct {
	mu sync.Mutex
	n  float64
}

func (c *counter) Add(n float64) { c.mu.Lock(); c.n += n; c.mu.Unlock() }
func (c *counter) get() float64  { c.mu.Lock(); defer c.mu.Unlock(); return c.n }
