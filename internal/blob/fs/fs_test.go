package fs

import (
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
