package s3_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// orderKeys are blobtest's List keys without a key that is also a
// "directory" of another: byte order still differs from a tree walk ("-"
// and "." sort before "/").
var orderKeys = []string{
	"a",
	"idx/u1/1", "idx/u1/10", "idx/u1/2", "idx/u2/1",
	"msg-x", "msg.y",
	"msg/01", "msg/01-b", "msg/01.c", "msg/02", "msg/10",
	"msgz", "z",
}

func keysOf(infos []blob.Info) []string {
	keys := make([]string, len(infos))
	for i, in := range infos {
		keys[i] = in.Key
	}
	return keys
}

func TestListOrder(t *testing.T) {
	srv := testenv.S3(t)
	st := open(t, srv, s3.Options{})
	ctx := context.Background()
	for _, k := range orderKeys {
		if _, err := st.Put(ctx, k, strings.NewReader(k), map[string]string{"k": "v"}); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	sorted := slices.Sorted(slices.Values(orderKeys))
	for _, tc := range []struct {
		prefix, after string
		limit         int
	}{
		{"", "", 100}, {"", "", 0}, {"", "", 3}, {"msg/", "", 100}, {"msg", "", 100},
		{"msg/", "msg/01", 100}, {"msg/", "msg/015", 100}, {"msg/", "msg/01-b", 2},
		{"idx/u1/", "", 100}, {"idx/", "idx/u1/2", 100}, {"", "msg", 4}, {"", "z", 100},
		{"nothing/", "", 10}, {"msg/0", "", 100}, {"", "a", 1}, {"", "0", 2},
	} {
		var want []string
		for _, k := range sorted {
			if strings.HasPrefix(k, tc.prefix) && k > tc.after && (tc.limit <= 0 || len(want) < tc.limit) {
				want = append(want, k)
			}
		}
		infos, err := st.List(ctx, tc.prefix, tc.after, tc.limit)
		if err != nil {
			t.Fatalf("List(%q, %q, %d): %v", tc.prefix, tc.after, tc.limit, err)
		}
		if got := keysOf(infos); !slices.Equal(got, want) {
			t.Errorf("List(%q, %q, %d) = %q, want %q", tc.prefix, tc.after, tc.limit, got, want)
		}
		for _, in := range infos {
			if in.Size != int64(len(in.Key)) || in.Meta != nil || in.Modified.IsZero() {
				t.Errorf("List: %+v", in)
			}
		}
	}
}

// TestListPages: more objects than one S3 page (1000), from start-after.
func TestListPages(t *testing.T) {
	srv := testenv.S3(t)
	st := open(t, srv, s3.Options{})
	ctx := context.Background()
	const n = 1100
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("p/%04d", i)
	}
	sem := make(chan struct{}, 16)
	errs := make(chan error, n)
	for _, k := range keys {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := st.Put(ctx, k, strings.NewReader("x"), nil)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	infos, err := st.List(ctx, "p/", "p/0049", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(infos); !slices.Equal(got, keys[50:]) {
		t.Fatalf("List got %d keys from %q, want %d from %q", len(got), got[0], n-50, keys[50])
	}
	infos, err = st.List(ctx, "p/", "", 1050)
	if err != nil || len(infos) != 1050 || infos[1049].Key != keys[1049] {
		t.Fatalf("List limit 1050: %d keys, %v", len(infos), err)
	}
}

// TestDeleteThenReuse: deleting the last object under a prefix leaves
// nothing behind, and the prefix's name can then be an object.
func TestDeleteThenReuse(t *testing.T) {
	srv := testenv.S3(t)
	st := open(t, srv, s3.Options{})
	ctx := context.Background()
	for _, k := range []string{"d/a", "d/b"} {
		if _, err := st.Put(ctx, k, strings.NewReader(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := st.Delete(ctx, "d/a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if err := st.Delete(ctx, "d/b"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "never/existed"); err != nil {
		t.Fatalf("Delete(missing): %v", err)
	}
	if infos, err := st.List(ctx, "", "", 10); err != nil || len(infos) != 0 {
		t.Fatalf("List after deleting all = %+v, %v", infos, err)
	}
	if _, err := st.Put(ctx, "d", strings.NewReader("file where a prefix was"), nil); err != nil {
		t.Fatalf("Put(d): %v", err)
	}
	if infos, err := st.List(ctx, "", "", 10); err != nil || len(infos) != 1 || infos[0].Key != "d" {
		t.Fatalf("List = %+v, %v", infos, err)
	}
}
