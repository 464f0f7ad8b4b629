package blobtest

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// RangedReads checks that a ranged Get reads its range and not the object:
// read reports the bytes the driver has read so far (its read counter,
// blob.CountReads), which a 64 KiB range of a 2 MiB object may move by
// 64 KiB only, and reading to the end by the rest.
func RangedReads(t *testing.T, s blob.Store, read func() float64) {
	const size, off, length = 2 << 20, 1<<20 + 3, 64 << 10
	data := make([]byte, size)
	_, _ = io.ReadFull(rand.NewChaCha8([32]byte{2}), data)
	put(t, s, "msg/ranged", data, nil)
	for _, tc := range []struct {
		off, length, want int64
	}{
		{off, length, length},
		{size - 10, -1, 10},
		{0, size, size},
	} {
		before := read()
		got := get(t, s, "msg/ranged", tc.off, tc.length)
		if got != string(data[tc.off:tc.off+tc.want]) {
			t.Fatalf("Get(%d, %d): content differs", tc.off, tc.length)
		}
		if n := read() - before; n != float64(tc.want) {
			t.Errorf("Get(%d, %d) read %.0f bytes of the object, want %d", tc.off, tc.length, n, tc.want)
		}
	}
}
