package search

import (
	"math/rand/v2"
	"testing"
)

// TestBloomNoFalseNegative: every substring of a text may be in its
// filter, and most strings that are not are refused.
func TestBloomNoFalseNegative(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 4000)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyzäöü 日本\n"[rng.IntN(36)]
	}
	text := string(b)
	var f bloom
	f.add(text)
	for range 10000 {
		i := rng.IntN(len(text))
		j := i + rng.IntN(min(40, len(text)-i)+1)
		if !f.mayContain(text[i:j]) {
			t.Fatalf("%q refused", text[i:j])
		}
	}
	if f.mayContain("zzzzzqqqqqxxxxxjjjjj0123456789") {
		t.Error("a string of trigrams the text lacks passed")
	}
}
