package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
)

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const writers, each = 8, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				k := fmt.Sprintf("c/%d/%d", w, i)
				data := bytes.Repeat([]byte(k), 1000)
				if _, err := s.Put(context.Background(), k, bytes.NewReader(data), map[string]string{"k": k[2:]}); err != nil {
					errs <- fmt.Errorf("Put(%s): %w", k, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	keys := listed(t, s, "c/", "", 1000)
	if len(keys) != writers*each {
		t.Fatalf("List after concurrent Puts: %d keys, want %d", len(keys), writers*each)
	}
	for _, k := range keys {
		if got := get(t, s, k, 0, -1); got != string(bytes.Repeat([]byte(k), 1000)) {
			t.Fatalf("%s has wrong content", k)
		}
	}
}

var errBroken = errors.New("blobtest: reader broke")

// brokenReader yields n bytes and then fails, as a dropped SMTP
// connection does in the middle of DATA.
type brokenReader struct{ n int }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, errBroken
	}
	p = p[:min(len(p), b.n)]
	for i := range p {
		p[i] = 'x'
	}
	b.n -= len(p)
	return len(p), nil
}

func testFailedPut(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if _, err := s.Put(ctx, "msg/broken", &brokenReader{n: 300 << 10}, nil); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	absent(t, s, "msg/broken")
	if keys := listed(t, s, "", "", 100); len(keys) != 0 {
		t.Fatalf("failed Put left %q", keys)
	}
	// A failed overwrite keeps the old object whole.
	put(t, s, "msg/kept", []byte("old content"), map[string]string{"v": "1"})
	if _, err := s.Put(ctx, "msg/kept", &brokenReader{n: 100 << 10}, map[string]string{"v": "2"}); err == nil {
		t.Fatal("overwrite with a failing reader succeeded")
	}
	if got := get(t, s, "msg/kept", 0, -1); got != "old content" {
		t.Fatalf("after failed overwrite: %q", got)
	}
	info, err := s.Stat(ctx, "msg/kept")
	if err != nil || info.Meta["v"] != "1" {
		t.Fatalf("after failed overwrite: Stat = %+v, %v", info, err)
	}
}

// cancelingReader cancels its context after the first read.
type cancelingReader struct {
	cancel context.CancelFunc
	r      io.Reader
}

func (c cancelingReader) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}

func testCanceledPut(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := cancelingReader{cancel, bytes.NewReader(make([]byte, 1<<20))}
	if _, err := s.Put(ctx, "msg/canceled", r, nil); err == nil {
		t.Fatal("Put whose context ended mid-way succeeded")
	}
	absent(t, s, "msg/canceled")
}
