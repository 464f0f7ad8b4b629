package edge

import (
	"bytes"
	"io"
	"testing"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// TestHeaderCaptureGrowth: the header the edge keeps of a submitted
// message, and the From: check made on it, cost time linear in the message.
func TestHeaderCaptureGrowth(t *testing.T) {
	for _, shape := range growthtest.Messages() {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(raw []byte) {
				h := &headerCapture{r: bytes.NewReader(raw)}
				if _, err := io.Copy(io.Discard, h); err != nil {
					t.Fatal(err)
				}
				if fields, err := h.originators(); err == nil {
					_, _ = submittedSenders(fields)
				}
			})
		})
	}
}
