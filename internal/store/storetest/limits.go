package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// RunLimits checks a store.Limiter: counting, independence of keys and
// windows, expiry at the end of the window and concurrent hits.
func RunLimits(t *testing.T, open func(t *testing.T) store.Limiter) {
	t.Run("HitCount", func(t *testing.T) {
		l, ctx := open(t), context.Background()
		key := store.LimitKey("test", "hit", t.Name())
		if n, err := l.Count(ctx, key, time.Hour); err != nil || n != 0 {
			t.Fatalf("Count of a new key = %d, %v; want 0", n, err)
		}
		for i, want := range []int64{1, 3, 3, 4} {
			add := []int64{1, 2, 0, 1}[i]
			n, err := l.Hit(ctx, key, add, time.Hour)
			if err != nil || n != want {
				t.Fatalf("Hit %d = %d, %v; want %d", i, n, err, want)
			}
		}
		if n, err := l.Count(ctx, key, time.Hour); err != nil || n != 4 {
			t.Fatalf("Count = %d, %v; want 4", n, err)
		}
		// The same key under another window length is another counter.
		if n, err := l.Count(ctx, key, time.Minute); err != nil || n != 0 {
			t.Fatalf("Count with another window = %d, %v; want 0", n, err)
		}
		other := store.LimitKey("test", "hit", t.Name()+"x")
		if n, err := l.Hit(ctx, other, 1, time.Hour); err != nil || n != 1 {
			t.Fatalf("Hit of another key = %d, %v; want 1", n, err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		l, ctx := open(t), context.Background()
		if _, err := l.Hit(ctx, "k", -1, time.Hour); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("Hit(-1) = %v; want ErrInvalid", err)
		}
		if _, err := l.Hit(ctx, "k", 1, 0); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("Hit(window 0) = %v; want ErrInvalid", err)
		}
		if _, err := l.Count(ctx, "k", -time.Second); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("Count(window < 0) = %v; want ErrInvalid", err)
		}
	})
	t.Run("Expires", func(t *testing.T) {
		l, ctx := open(t), context.Background()
		const window = 200 * time.Millisecond
		key := store.LimitKey("test", "expire", t.Name())
		if _, err := l.Hit(ctx, key, 5, window); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, err := l.Count(ctx, key, window)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("counter still %d after the window ended", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n, err := l.Hit(ctx, key, 1, window); err != nil || n != 1 {
			t.Fatalf("Hit in a new window = %d, %v; want 1", n, err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		l, ctx := open(t), context.Background()
		key := store.LimitKey("test", "conc", t.Name())
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := l.Hit(ctx, key, 1, time.Hour); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n, err := l.Count(ctx, key, time.Hour); err != nil || n != 20 {
			t.Fatalf("Count after 20 concurrent hits = %d, %v", n, err)
		}
	})
}
