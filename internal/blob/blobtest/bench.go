package blobtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// Bench measures Put and Get of a 10 KiB object (a typical message) in s.
func Bench(b *testing.B, s blob.Store) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), 640)
	meta := map[string]string{"from": "sender@example.org", "to": "rcpt@example.net"}
	b.Run("Put10KiB", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		i := 0
		for b.Loop() {
			if _, err := s.Put(ctx, fmt.Sprintf("bench/put/%08d", i), bytes.NewReader(data), meta); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Get10KiB", func(b *testing.B) {
		put(b, s, "bench/get", data, meta)
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 32<<10)
		for b.Loop() {
			rc, err := s.Get(ctx, "bench/get", 0, -1)
			if err != nil {
				b.Fatal(err)
			}
			n, err := readAll(rc, buf)
			rc.Close()
			if err != nil || n != len(data) {
				b.Fatalf("read %d bytes: %v", n, err)
			}
		}
	})
}

// readAll reads r into buf without allocating.
func readAll(r io.Reader, buf []byte) (int, error) {
	n := 0
	for {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
	}
}
