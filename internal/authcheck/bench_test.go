package authcheck

import (
	"bytes"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// BenchmarkDKIMFoldedHeader reads the header of issue 15's message (1.2 MB,
// 300,000 folded lines) for DKIM as Check does, and, for comparison, has
// go-msgauth's verifier read a tenth of it: its folding loop is quadratic
// (profile with -cpuprofile: runtime.concatstrings under dkim.readHeader).
func BenchmarkDKIMFoldedHeader(b *testing.B) {
	c := &Checker{}
	b.Run("checkDKIM/1.2MB", func(b *testing.B) {
		raw := growthtest.FoldedHeader(1_200_000)
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			c.checkDKIM(b.Context(), bytes.NewReader(raw))
		}
	})
	b.Run("go-msgauth/128KiB", func(b *testing.B) {
		raw := growthtest.FoldedHeader(128 << 10)
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			_, _ = dkim.Verify(bytes.NewReader(raw))
		}
	})
}
