package blob_test

import (
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// TestValidKeyMatchesFS: every driver must refuse the same keys.
func TestValidKeyMatchesFS(t *testing.T) {
	for _, k := range []string{
		"msg/01J00000000000000000000000", "a", "a.b", "a-b_c/D.9", ".a", "a.",
		"", "/", "/a", "a/", "a//b", "..", "a/../b", "a..b", ".", "a/./b",
		"a b", "a~b", "a:b", "ä", "a\x00b", strings.Repeat("k", 250), strings.Repeat("k", 251),
		strings.Repeat("k/", 512), strings.Repeat("k/", 511) + "kk",
	} {
		got, want := blob.ValidKey(k), fs.ValidKey(k)
		if (got == nil) != (want == nil) {
			t.Errorf("ValidKey(%q) = %v, fs.ValidKey = %v", k, got, want)
		}
		if got != nil && !fault.IsPermanent(got) {
			t.Errorf("ValidKey(%q) = %v, not permanent", k, got)
		}
	}
}

func TestValidMeta(t *testing.T) {
	for _, tc := range []struct {
		meta map[string]string
		ok   bool
	}{
		{nil, true},
		{map[string]string{"from": "a@b", "x-1": " ~ "}, true},
		{map[string]string{"Upper": "v"}, false},
		{map[string]string{"": "v"}, false},
		{map[string]string{"k": "a\r\nb"}, false},
		{map[string]string{"k": "caf\u00e9"}, false},
	} {
		if err := blob.ValidMeta(tc.meta); (err == nil) != tc.ok || err != nil && !fault.IsPermanent(err) {
			t.Errorf("ValidMeta(%q) = %v, want ok=%v", tc.meta, err, tc.ok)
		}
	}
}
