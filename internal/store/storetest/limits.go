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
// windows, expiry at the end of the window, concurrent hits, releases and
// marks.
func RunLimits(t *testing.T, open func(t *testing.T) store.Limiter) {
	runRelease(t, open)
	runMarks(t, open)
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

// runRelease checks Release: it takes back what Hit added, never below
// zero, and never creates a counter.
func runRelease(t *testing.T, open func(t *testing.T) store.Limiter) {
	t.Run("Release", func(t *testing.T) {
		l, ctx := open(t), context.Background()
		key := store.LimitKey("test", "release", t.Name())
		if n, err := l.Release(ctx, key, 1, time.Hour); err != nil || n != 0 {
			t.Fatalf("Release of a new key = %d, %v; want 0", n, err)
		}
		if n, err := l.Count(ctx, key, time.Hour); err != nil || n != 0 {
			t.Fatalf("Count after releasing a new key = %d, %v; want 0", n, err)
		}
		if _, err := l.Hit(ctx, key, 3, time.Hour); err != nil {
			t.Fatal(err)
		}
		if n, err := l.Release(ctx, key, 1, time.Hour); err != nil || n != 2 {
			t.Fatalf("Release(1) of 3 = %d, %v; want 2", n, err)
		}
		if n, err := l.Release(ctx, key, 5, time.Hour); err != nil || n != 0 {
			t.Fatalf("Release(5) of 2 = %d, %v; want 0 (never below zero)", n, err)
		}
		if n, err := l.Hit(ctx, key, 1, time.Hour); err != nil || n != 1 {
			t.Fatalf("Hit after release = %d, %v; want 1", n, err)
		}
		if _, err := l.Release(ctx, key, -1, time.Hour); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("Release(-1) = %v; want ErrInvalid", err)
		}
	})
	t.Run("ReserveConcurrent", func(t *testing.T) {
		// Hit then Release, as a login reserves its attempt: of 40
		// concurrent reservations against a limit of 10, exactly 10 get a
		// count within the limit, and the releases leave the counter at 10.
		l, ctx := open(t), context.Background()
		key := store.LimitKey("test", "reserve", t.Name())
		const limit = 10
		var wg sync.WaitGroup
		var mu sync.Mutex
		within := 0
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := l.Hit(ctx, key, 1, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if n <= limit {
					mu.Lock()
					within++
					mu.Unlock()
					return
				}
				if _, err := l.Release(ctx, key, 1, time.Hour); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if within != limit {
			t.Errorf("%d reservations within the limit; want %d", within, limit)
		}
		if n, err := l.Count(ctx, key, time.Hour); err != nil || n != limit {
			t.Errorf("Count = %d, %v; want %d", n, err, limit)
		}
	})
}

// runMarks checks Mark and Marked: a mark is seen until its ttl ends, and
// marking again starts the ttl over.
func runMarks(t *testing.T, open func(t *testing.T) store.Limiter) {
	t.Run("Marks", func(t *testing.T) {
		l, ctx := open(t), context.Background()
		key := store.LimitKey("test", "mark", t.Name())
		if ok, err := l.Marked(ctx, key); err != nil || ok {
			t.Fatalf("Marked of a new key = %v, %v; want false", ok, err)
		}
		if err := l.Mark(ctx, key, time.Hour); err != nil {
			t.Fatal(err)
		}
		if ok, err := l.Marked(ctx, key); err != nil || !ok {
			t.Fatalf("Marked after Mark = %v, %v; want true", ok, err)
		}
		// A mark is not a counter of the same key.
		if n, err := l.Count(ctx, key, time.Hour); err != nil || n != 0 {
			t.Fatalf("Count of a marked key = %d, %v; want 0", n, err)
		}
		other := store.LimitKey("test", "mark", t.Name()+"x")
		if ok, err := l.Marked(ctx, other); err != nil || ok {
			t.Fatalf("Marked of another key = %v, %v; want false", ok, err)
		}
		if err := l.Mark(ctx, key, 0); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("Mark(ttl 0) = %v; want ErrInvalid", err)
		}
	})
	t.Run("MarkExpires", func(t *testing.T) {
		l, ctx := open(t), context.Background()
		key := store.LimitKey("test", "mark-expire", t.Name())
		const ttl = 300 * time.Millisecond
		if err := l.Mark(ctx, key, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		// Marking again with a longer ttl starts it over.
		if err := l.Mark(ctx, key, ttl); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		time.Sleep(50 * time.Millisecond)
		if ok, err := l.Marked(ctx, key); err != nil || (!ok && time.Since(start) < ttl) {
			t.Fatalf("Marked after a re-mark = %v, %v; want true", ok, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			ok, err := l.Marked(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("mark still there long after its ttl")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
