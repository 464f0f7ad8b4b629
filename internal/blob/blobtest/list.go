package blobtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// listKeys are chosen so that byte order differs from a naive tree walk:
// "-" and "." sort before "/", and a key can be a prefix of others ("msg/01"
// of "msg/01-b"). No key is also a "directory" of another ("a" with "a/b"):
// MinIO and file-backed S3 servers (versitygw posix) refuse that.
var listKeys = []string{
	"a",
	"idx/u1/1", "idx/u1/10", "idx/u1/2", "idx/u2/1",
	"msg-x", "msg.y",
	"msg/01", "msg/01.c", "msg/01-b", "msg/02", "msg/10",
	"msgz", "z",
}

func listed(t *testing.T, s blob.Store, prefix, after string, limit int) []string {
	t.Helper()
	infos, err := s.List(context.Background(), prefix, after, limit)
	if err != nil {
		t.Fatalf("List(%q, %q, %d): %v", prefix, after, limit, err)
	}
	keys := make([]string, len(infos))
	for i, in := range infos {
		keys[i] = in.Key
		if in.Meta != nil {
			t.Errorf("List returned metadata for %q", in.Key)
		}
		if in.Modified.IsZero() {
			t.Errorf("List: %q has no modification time", in.Key)
		}
	}
	return keys
}

func testList(t *testing.T, s blob.Store) {
	for _, k := range listKeys {
		put(t, s, k, []byte(k), map[string]string{"k": "v"}) // content = key, so sizes differ
	}
	infos, err := s.List(context.Background(), "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if want := int64(len(in.Key)); in.Size != want {
			t.Errorf("List: %q has size %d, want %d", in.Key, in.Size, want)
		}
	}
	sorted := slices.Clone(listKeys)
	slices.Sort(sorted)
	filter := func(prefix, after string, limit int) []string {
		var out []string
		for _, k := range sorted {
			if strings.HasPrefix(k, prefix) && k > after && len(out) < limit {
				out = append(out, k)
			}
		}
		return out
	}
	for _, tc := range []struct {
		prefix, after string
		limit         int
	}{
		{"", "", 100},
		{"", "", 3},
		{"msg/", "", 100},
		{"msg", "", 100},
		{"msg/", "msg/01", 100},  // strictly after
		{"msg/", "msg/015", 100}, // after a key that does not exist
		{"msg/", "msg/01.c", 2},
		{"idx/u1/", "", 100},
		{"idx/", "idx/u1/2", 100},
		{"", "msg", 4},
		{"", "z", 100},       // nothing after the last
		{"nothing/", "", 10}, // no match
		{"msg/0", "", 100},   // prefix that is not a whole level
		{"", "a", 1},
		{"", "0", 2}, // before everything
	} {
		want := filter(tc.prefix, tc.after, tc.limit)
		got := listed(t, s, tc.prefix, tc.after, tc.limit)
		if !slices.Equal(got, want) {
			t.Errorf("List(%q, %q, %d) = %q, want %q", tc.prefix, tc.after, tc.limit, got, want)
		}
	}
}

// testListPaging pages through many keys the way the reconciler does:
// startAfter = the last key of the previous page.
func testListPaging(t *testing.T, s blob.Store) {
	var want []string
	for i := range 57 {
		k := fmt.Sprintf("msg/%03d", i)
		put(t, s, k, []byte(k), nil)
		want = append(want, k)
	}
	put(t, s, "other", []byte("other"), nil)
	for _, page := range []int{1, 10, 57, 100} {
		var got []string
		after := ""
		for {
			keys := listed(t, s, "msg/", after, page)
			if len(keys) > page {
				t.Fatalf("List returned %d keys, limit %d", len(keys), page)
			}
			if len(keys) == 0 {
				break
			}
			got = append(got, keys...)
			after = keys[len(keys)-1]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paging by %d: got %q", page, got)
		}
	}
}
