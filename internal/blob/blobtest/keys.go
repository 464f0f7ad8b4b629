package blobtest

import (
	"context"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// badKeys break the rules of blob.Store keys. Empty and "." levels are
// refused too: a file system cannot tell them apart from their neighbours.
var badKeys = []string{
	"", "/", "/a", "a/", "a//b", "..", "a/../b", "a..b", "../a", ".", "a/./b",
	"a b", "a\\b", "a\x00b", "a\nb", "ä", "a~b", "a:b", "a*b", "a%2Fb",
	strings.Repeat("k", 2000),
}

func testBadKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, k := range badKeys {
		if _, err := s.Put(ctx, k, strings.NewReader("x"), nil); err == nil || !fault.IsPermanent(err) {
			t.Errorf("Put(%q) = %v, want a permanent error", k, err)
		}
		if rc, err := s.Get(ctx, k, 0, -1); err == nil || !fault.IsPermanent(err) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Get(%q) = %v, want a permanent error", k, err)
		}
		if _, err := s.Stat(ctx, k); err == nil || !fault.IsPermanent(err) {
			t.Errorf("Stat(%q) = %v, want a permanent error", k, err)
		}
		if err := s.Delete(ctx, k); err == nil || !fault.IsPermanent(err) {
			t.Errorf("Delete(%q) = %v, want a permanent error", k, err)
		}
	}
	if keys := listed(t, s, "", "", 100); len(keys) != 0 {
		t.Fatalf("bad keys left objects: %q", keys)
	}
}

func testBadMeta(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, meta := range []map[string]string{
		{"Upper": "v"},
		{"": "v"},
		{"sp ace": "v"},
		{"k": "line\r\nbreak"},
		{"k": "caf\u00e9"},
		{"k": "\x00"},
	} {
		if _, err := s.Put(ctx, "m", strings.NewReader("x"), meta); err == nil || !fault.IsPermanent(err) {
			t.Errorf("Put with meta %q = %v, want a permanent error", meta, err)
		}
	}
	absent(t, s, "m")
}
