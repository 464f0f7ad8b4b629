package authcheck

import (
	"bytes"
	"testing"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// TestCheckGrowth feeds Check DKIM-signed adversarial messages of growing
// size: its cost (DKIM header reading and verification, From: parsing)
// must grow linearly.
func TestCheckGrowth(t *testing.T) {
	w := newWorld(t)
	for _, shape := range growthtest.Messages() {
		signed := growthtest.Shape{Name: shape.Name, N: shape.N, Make: func(n int) []byte {
			return []byte(w.signed(string(shape.Make(n))))
		}}
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, signed, func(raw []byte) {
				if _, err := w.checker.Check(t.Context(), clientIP, "mx.sender.example", "bob@sender.example", bytes.NewReader(raw)); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
