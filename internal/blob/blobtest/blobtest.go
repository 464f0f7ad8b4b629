// Package blobtest is the conformance suite every blob.Store driver must
// pass (blob/fs, blob/s3): the same semantics whatever holds the bytes.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// Run runs the suite. open must return a new, empty store for each call; it
// is called once per subtest, with that subtest's t.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"LargeStreaming", testLarge},
		{"Ranges", testRanges},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"ListPaging", testListPaging},
		{"Overwrite", testOverwrite},
		{"OverwriteAtomic", testOverwriteAtomic},
		{"BadKeys", testBadKeys},
		{"BadMeta", testBadMeta},
		{"ConcurrentPuts", testConcurrentPuts},
		{"FailedPut", testFailedPut},
		{"CanceledPut", testCanceledPut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open(t)) })
	}
}

// put stores data under key or fails the test.
func put(t testing.TB, s blob.Store, key string, data []byte, meta map[string]string) {
	t.Helper()
	n, err := s.Put(context.Background(), key, opaque{bytes.NewReader(data)}, meta)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put(%q) = %d bytes, want %d", key, n, len(data))
	}
}

// get reads a range of key or fails the test.
func get(t testing.TB, s blob.Store, key string, off, length int64) string {
	t.Helper()
	rc, err := s.Get(context.Background(), key, off, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): reading: %v", key, off, length, err)
	}
	return string(b)
}

// wantNotFound checks that err says key is missing, permanently.
func wantNotFound(t testing.TB, op string, err error) {
	t.Helper()
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("%s: err = %v, want blob.ErrNotFound", op, err)
	}
	if !fault.IsPermanent(err) {
		t.Fatalf("%s: err = %v is not permanent", op, err)
	}
}

// absent checks that key is neither readable nor listed.
func absent(t testing.TB, s blob.Store, key string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.Stat(ctx, key)
	wantNotFound(t, "Stat("+key+")", err)
	rc, err := s.Get(ctx, key, 0, -1)
	if err == nil {
		rc.Close()
	}
	wantNotFound(t, "Get("+key+")", err)
	infos, err := s.List(ctx, key, "", 10)
	if err != nil {
		t.Fatalf("List(%q): %v", key, err)
	}
	for _, in := range infos {
		if in.Key == key {
			t.Fatalf("List(%q) shows missing key %q", key, key)
		}
	}
}

// opaque hides everything but Read, so drivers see a reader of unknown
// length (as the SMTP DATA stream is).
type opaque struct{ r io.Reader }

func (o opaque) Read(p []byte) (int, error) { return o.r.Read(p) }

func equalMeta(a, b map[string]string) bool {
	return len(a) == 0 && len(b) == 0 || maps.Equal(a, b)
}
