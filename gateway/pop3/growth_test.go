package pop3

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// TestRetrieveGrowth: RETR and TOP, which stuff dots and count header and
// body lines as they stream, cost time linear in the message.
func TestRetrieveGrowth(t *testing.T) {
	for _, shape := range growthtest.Messages() {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(raw []byte) {
				for _, lines := range []int{-1, 10} {
					dw := newDotWriter(io.Discard)
					var dst io.Writer = dw
					if lines >= 0 {
						dst = newTopWriter(dw, lines)
					}
					if _, err := io.Copy(dst, bytes.NewReader(raw)); err != nil && !errors.Is(err, errTopDone) {
						t.Fatal(err)
					}
					if err := dw.Close(); err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}
