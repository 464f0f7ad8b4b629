package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// cached is an Authenticator with a login cache, a clock the test moves
// and a count of the argon2id verifications Login ran.
type cached struct {
	*Authenticator
	dir      *directory
	now      time.Time
	verified atomic.Int64
}

func newCached(t *testing.T, ttl time.Duration, size int) *cached {
	t.Helper()
	c := &cached{dir: newDir(t), now: time.Unix(1_700_000_000, 0)}
	c.Authenticator = New(c.dir, Options{CacheTTL: ttl, CacheSize: size})
	c.cache.now = func() time.Time { return c.now }
	c.dummyOnce.Do(func() { c.dummy, _ = hashWith("dummy", 64, 1, 1) })
	c.hash = func(hash, password string) (bool, error) {
		c.verified.Add(1)
		return verify(hash, password)
	}
	return c
}

// login logs in and checks the outcome and how many verifications it ran.
func (c *cached) login(t *testing.T, user, password string, wantOK bool, wantVerified int64) {
	t.Helper()
	before := c.verified.Load()
	_, err := c.Login(context.Background(), user, password)
	if wantOK && err != nil || !wantOK && !errors.Is(err, ErrFailed) {
		t.Errorf("Login(%q, %q) = %v; want success %v", user, password, err, wantOK)
	}
	if got := c.verified.Load() - before; got != wantVerified {
		t.Errorf("Login(%q, %q) ran %d verifications; want %d", user, password, got, wantVerified)
	}
}

func TestCacheHitSkipsHash(t *testing.T) {
	c := newCached(t, time.Minute, 0)
	c.login(t, "alice@example.org", "right password", true, 1)
	for range 3 {
		c.login(t, "alice@example.org", "right password", true, 0)
	}
	c.login(t, " Alice@Example.ORG", "right password", true, 0) // same user
	if n := c.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries; want 1", n)
	}
}

func TestCacheOff(t *testing.T) {
	c := newCached(t, time.Minute, 0)
	c.Authenticator.cache = nil // what Options{} gives
	for range 3 {
		c.login(t, "alice@example.org", "right password", true, 1)
	}
	if newLoginCache(0, 10) != nil {
		t.Error("a zero TTL made a cache")
	}
}

// TestCacheWrongPassword: a cached success does not help another password,
// and failures are never cached, so each one pays a verification.
func TestCacheWrongPassword(t *testing.T) {
	c := newCached(t, time.Minute, 0)
	c.login(t, "alice@example.org", "right password", true, 1)
	for _, pw := range []string{"wrong password", "wrong password", "right password ", "Right password", ""} {
		c.login(t, "alice@example.org", pw, false, 1)
	}
	c.login(t, "disabled@example.org", "", false, 1)
	c.login(t, "disabled@example.org", "", false, 1)
	c.login(t, "broken@example.org", "anything", false, 1)
	c.login(t, "broken@example.org", "anything", false, 1)
	if n := c.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries; want only the success", n)
	}
}

func TestCachePasswordChange(t *testing.T) {
	c := newCached(t, time.Hour, 0)
	c.login(t, "alice@example.org", "right password", true, 1)
	u := c.dir.users["alice@example.org"]
	var err error
	if u.PasswordHash, err = hashWith("new password", 64, 1, 1); err != nil {
		t.Fatal(err)
	}
	c.dir.users["alice@example.org"] = u
	c.login(t, "alice@example.org", "right password", false, 1)
	c.login(t, "alice@example.org", "new password", true, 1)
	c.login(t, "alice@example.org", "new password", true, 0)
	// Even the same password, hashed again (new salt), is checked again.
	if u.PasswordHash, err = hashWith("new password", 64, 1, 1); err != nil {
		t.Fatal(err)
	}
	c.dir.users["alice@example.org"] = u
	c.login(t, "alice@example.org", "new password", true, 1)
}

func TestCacheTTL(t *testing.T) {
	c := newCached(t, time.Minute, 0)
	c.login(t, "alice@example.org", "right password", true, 1)
	c.now = c.now.Add(time.Minute - time.Nanosecond)
	c.login(t, "alice@example.org", "right password", true, 0) // a hit does not extend the entry
	c.now = c.now.Add(time.Nanosecond)
	c.login(t, "alice@example.org", "right password", true, 1)
	c.now = c.now.Add(30 * time.Second)
	c.login(t, "alice@example.org", "right password", true, 0)
	if n := c.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries; want 1 (the expired one replaced)", n)
	}
}

func TestCacheSizeBound(t *testing.T) {
	const size = 3
	c := newCached(t, time.Hour, size)
	var users []string
	for i := range 5 {
		addr := fmt.Sprintf("user%d@example.org", i)
		h, err := hashWith("pw", 64, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		c.dir.users[addr] = store.User{ID: fmt.Sprintf("id%d", i), Address: addr, PasswordHash: h}
		users = append(users, addr)
	}
	for _, u := range users {
		c.login(t, u, "pw", true, 1)
		c.now = c.now.Add(time.Second)
		if n := c.cache.len(); n > size {
			t.Fatalf("cache holds %d entries; want at most %d", n, size)
		}
	}
	// The newest three are kept, the oldest two were evicted.
	for _, u := range users[2:] {
		c.login(t, u, "pw", true, 0)
	}
	c.login(t, users[0], "pw", true, 1)
	if n := c.cache.len(); n != size {
		t.Errorf("cache holds %d entries; want %d", n, size)
	}
}

// TestCacheUnknownUser: an unknown address still costs the dummy
// verification every time, whatever the cache holds.
func TestCacheUnknownUser(t *testing.T) {
	c := newCached(t, time.Minute, 0)
	c.login(t, "alice@example.org", "right password", true, 1)
	for range 2 {
		c.login(t, "nobody@example.org", "right password", false, 1)
		c.login(t, "nobody@example.org", "other", false, 1)
	}
}

func TestCacheKeyFields(t *testing.T) {
	c := newLoginCache(time.Minute, 0)
	seen := map[[32]byte]string{}
	for _, f := range [][3]string{
		{"ab", "c", "d"}, {"a", "bc", "d"}, {"a", "b", "cd"}, {"abc", "", "d"},
		{"", "abc", "d"}, {"a", "b", "c\x00d"}, {"a\x00", "b", "cd"},
	} {
		k := c.key(f[0], f[1], f[2])
		if prev, ok := seen[k]; ok {
			t.Errorf("key(%q) = key(%s)", f, prev)
		}
		seen[k] = fmt.Sprintf("%q", f)
	}
	other := newLoginCache(time.Minute, 0)
	if c.key("u", "h", "p") == other.key("u", "h", "p") {
		t.Error("two caches share their HMAC key")
	}
}

// TestCacheBurst: logins with one password at the same time (a client
// opening its connections) share one verification; with a wrong password
// each still pays its own.
func TestCacheBurst(t *testing.T) {
	c := newCached(t, time.Minute, 0)
	release := make(chan struct{})
	c.hash = func(hash, password string) (bool, error) {
		c.verified.Add(1)
		<-release
		return verify(hash, password)
	}
	burst := func(password string, wantOK bool) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := c.Login(context.Background(), "alice@example.org", password)
				if (err == nil) != wantOK {
					t.Errorf("Login(%q) = %v; want success %v", password, err, wantOK)
				}
			})
		}
		for c.dir.count() < 8 { // every login past the directory lookup
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
		close(release)
		wg.Wait()
	}
	burst("right password", true)
	if n := c.verified.Load(); n != 1 {
		t.Errorf("8 logins at once ran %d verifications; want 1", n)
	}
	c.verified.Store(0)
	c.dir.lookups = 0
	release = make(chan struct{})
	burst("wrong password", false)
	if n := c.verified.Load(); n != 8 {
		t.Errorf("8 failed logins at once ran %d verifications; want 8", n)
	}
}

// TestCacheWaitCanceled: a login waiting for another's verification
// gives up when its context ends.
func TestCacheWaitCanceled(t *testing.T) {
	c := newCached(t, time.Minute, 0)
	started, release := make(chan struct{}), make(chan struct{})
	c.hash = func(hash, password string) (bool, error) {
		close(started)
		<-release
		return verify(hash, password)
	}
	done := make(chan error)
	go func() {
		_, err := c.Login(context.Background(), "alice@example.org", "right password")
		done <- err
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Login(ctx, "alice@example.org", "right password"); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting Login with canceled ctx = %v; want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("verifying Login = %v", err)
	}
}

// TestCacheConcurrent runs logins from many goroutines (for -race).
func TestCacheConcurrent(t *testing.T) {
	c := newCached(t, time.Minute, 2)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				pw := "right password"
				if (i+j)%3 == 0 {
					pw = "wrong"
				}
				_, err := c.Login(context.Background(), "alice@example.org", pw)
				if (err == nil) != (pw == "right password") {
					t.Errorf("Login(%q) = %v", pw, err)
				}
			}
		})
	}
	wg.Wait()
}
