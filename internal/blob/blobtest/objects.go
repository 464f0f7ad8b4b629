package blobtest

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
)

func testRoundTrip(t *testing.T, s blob.Store) {
	ctx := context.Background()
	meta := map[string]string{"from": "a%40b@example.org", "received": "2026-01-02T03:04:05Z", "x-1": " spaced ~ value "}
	before := time.Now()
	put(t, s, "msg/01J00000000000000000000000", []byte("hello, world\r\n"), meta)
	after := time.Now()

	if got := get(t, s, "msg/01J00000000000000000000000", 0, -1); got != "hello, world\r\n" {
		t.Fatalf("Get = %q", got)
	}
	info, err := s.Stat(ctx, "msg/01J00000000000000000000000")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Key != "msg/01J00000000000000000000000" || info.Size != 14 || !equalMeta(info.Meta, meta) {
		t.Fatalf("Stat = %+v, want size 14 and meta %v", info, meta)
	}
	// Allow for coarse timestamps and a server clock a little off.
	if info.Modified.Before(before.Add(-time.Minute)) || info.Modified.After(after.Add(time.Minute)) {
		t.Fatalf("Stat.Modified = %v, want about %v", info.Modified, before)
	}

	put(t, s, "nometa", []byte("x"), nil)
	info, err = s.Stat(ctx, "nometa")
	if err != nil || len(info.Meta) != 0 || info.Size != 1 {
		t.Fatalf("Stat(nometa) = %+v, %v; want size 1, no meta", info, err)
	}
}

func testEmptyObject(t *testing.T, s blob.Store) {
	put(t, s, "empty", nil, map[string]string{"k": "v"})
	info, err := s.Stat(context.Background(), "empty")
	if err != nil || info.Size != 0 || info.Meta["k"] != "v" {
		t.Fatalf("Stat(empty) = %+v, %v", info, err)
	}
	if got := get(t, s, "empty", 0, -1); got != "" {
		t.Fatalf("Get(empty) = %q", got)
	}
}

// testLarge streams several MiB through Put and Get; a driver that buffers
// the object still passes, but the benchmark and memory profile show it.
func testLarge(t *testing.T, s blob.Store) {
	const size = 5<<20 + 12345
	ctx := context.Background()
	src := io.LimitReader(rand.NewChaCha8([32]byte{1}), size)
	want := sha256.New()
	n, err := s.Put(ctx, "big/one", opaque{io.TeeReader(src, want)}, map[string]string{"k": "v"})
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v; want %d", n, err, size)
	}
	rc, err := s.Get(ctx, "big/one", 0, -1)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	got := sha256.New()
	m, err := io.Copy(got, rc)
	rc.Close()
	if err != nil || m != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatalf("Get read %d bytes (err %v), content differs: %v", m, err, string(got.Sum(nil)) != string(want.Sum(nil)))
	}
	info, err := s.Stat(ctx, "big/one")
	if err != nil || info.Size != size {
		t.Fatalf("Stat = %+v, %v", info, err)
	}

	// A range deep inside: regenerate the same stream to know its bytes.
	all := make([]byte, size)
	_, _ = io.ReadFull(rand.NewChaCha8([32]byte{1}), all)
	const off, length = 3<<20 + 7, 100000
	if got := get(t, s, "big/one", off, length); got != string(all[off:off+length]) {
		t.Fatalf("Get(%d, %d) differs", off, length)
	}
}

func testRanges(t *testing.T, s blob.Store) {
	put(t, s, "r", []byte("0123456789"), nil)
	for _, tc := range []struct {
		off, length int64
		want        string
	}{
		{0, -1, "0123456789"},
		{0, 3, "012"},
		{4, 3, "456"},
		{7, -1, "789"},
		{8, 10, "89"}, // length past the end
		{9, 1, "9"},   // last byte
		{3, 0, ""},    // empty range
		{10, -1, ""},  // at the end
		{20, 5, ""},   // past the end
		{0, 1 << 40, "0123456789"},
	} {
		if got := get(t, s, "r", tc.off, tc.length); got != tc.want {
			t.Errorf("Get(r, %d, %d) = %q, want %q", tc.off, tc.length, got, tc.want)
		}
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	ctx := context.Background()
	absent(t, s, "msg/nothing")
	rc, err := s.Get(ctx, "msg/nothing", 5, 10)
	if err == nil {
		rc.Close()
	}
	wantNotFound(t, "Get with range", err)
	// A key that is only a prefix of others is not an object.
	put(t, s, "dir/child", []byte("x"), nil)
	absent(t, s, "dir")
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "d/a", []byte("a"), nil)
	put(t, s, "d/b", []byte("b"), nil)
	for range 2 { // idempotent
		if err := s.Delete(ctx, "d/a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	absent(t, s, "d/a")
	if got := get(t, s, "d/b", 0, -1); got != "b" {
		t.Fatalf("sibling d/b = %q after deleting d/a", got)
	}
	if err := s.Delete(ctx, "never/existed"); err != nil {
		t.Fatalf("Delete(missing): %v", err)
	}
	// The last object under a prefix, then the prefix reused.
	if err := s.Delete(ctx, "d/b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if infos, err := s.List(ctx, "d/", "", 10); err != nil || len(infos) != 0 {
		t.Fatalf("List(d/) after deleting all = %v, %v", infos, err)
	}
	put(t, s, "d/a", []byte("again"), nil)
	if got := get(t, s, "d/a", 0, -1); got != "again" {
		t.Fatalf("recreated d/a = %q", got)
	}
	if err := s.Delete(ctx, "d/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	put(t, s, "d", []byte("file where a prefix was"), nil)
	if got := get(t, s, "d", 0, 4); got != "file" {
		t.Fatalf("Get(d) = %q", got)
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "k", []byte("a much longer old value"), map[string]string{"v": "1", "old": "x"})
	put(t, s, "k", []byte("new"), map[string]string{"v": "2"})
	if got := get(t, s, "k", 0, -1); got != "new" {
		t.Fatalf("Get after overwrite = %q", got)
	}
	info, err := s.Stat(ctx, "k")
	if err != nil || info.Size != 3 || !equalMeta(info.Meta, map[string]string{"v": "2"}) {
		t.Fatalf("Stat after overwrite = %+v, %v", info, err)
	}
	infos, err := s.List(ctx, "", "", 10)
	if err != nil || len(infos) != 1 || infos[0].Size != 3 {
		t.Fatalf("List after overwrite = %+v, %v", infos, err)
	}
}

// testOverwriteAtomic checks that readers racing with overwrites see one
// whole version, never a mix or a truncated object.
func testOverwriteAtomic(t *testing.T, s blob.Store) {
	const size = 256 << 10
	versions := []string{strings.Repeat("a", size), strings.Repeat("b", size)}
	put(t, s, "hot", []byte(versions[0]), nil)
	done := make(chan struct{})
	errc := make(chan string, 1)
	go func() {
		defer close(done)
		for i := range 20 {
			if _, err := s.Put(context.Background(), "hot", strings.NewReader(versions[(i+1)%2]), nil); err != nil {
				errc <- "Put: " + err.Error()
				return
			}
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			select {
			case msg := <-errc:
				t.Fatal(msg)
			default:
			}
			if reads == 0 {
				t.Log("no read overlapped the writes")
			}
			return
		default:
		}
		got := get(t, s, "hot", 0, -1)
		if got != versions[0] && got != versions[1] {
			t.Fatalf("read %d bytes that are neither version", len(got))
		}
	}
}
