package message

import (
	"bytes"
	"testing"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// TestParseGrowth: the cost of Parse, and of the ENVELOPE and
// BODYSTRUCTURE made from its summary, grows linearly with the message.
func TestParseGrowth(t *testing.T) {
	for _, shape := range growthtest.Messages() {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(raw []byte) {
				s, err := Parse(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				_ = s.IMAPEnvelope()
				_ = s.IMAPBodyStructure(true)
				if _, err := Unmarshal(s.Marshal()); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
