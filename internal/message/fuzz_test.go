package message

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic or fail, the
// summary must be consistent, well-formed for IMAP and survive
// Marshal/Unmarshal. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, raw := range samples(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		checkSummary(t, raw, s)
	})
}
