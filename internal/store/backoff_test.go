package store

import (
	"testing"
	"time"
)

// TestBackoff: the delay doubles from base with each attempt, stops at
// max, and stays within 20 % of that.
func TestBackoff(t *testing.T) {
	base, max := 30*time.Second, time.Hour
	for attempts, want := range map[int]time.Duration{
		0: base, 1: base, 2: 2 * base, 3: 4 * base, 7: 64 * base, 8: max, 20: max,
	} {
		for range 50 {
			if d := Backoff(base, max, attempts); d < want*8/10 || d > want*12/10 {
				t.Fatalf("Backoff(%v, %v, %d) = %v, want %v ±20%%", base, max, attempts, d, want)
			}
		}
	}
}
