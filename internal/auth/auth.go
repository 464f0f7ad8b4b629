package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// ErrFailed is the one answer to a wrong address or password, so that a
// client cannot tell which addresses exist.
var ErrFailed = errors.New("auth: authentication failed")

// maxPassword bounds the password accepted; longer ones fail without work.
const maxPassword = 1024

// Authenticator logs users in against a directory.
type Authenticator struct {
	dir store.Directory
	// sem bounds concurrent hash computations: each takes 19 MiB and a
	// core for tens of milliseconds, and a login flood must not exhaust
	// memory.
	sem chan struct{}

	cache *loginCache  // nil: every login verifies
	mem   *memReleaser // returns the hashes' memory to the OS
	// hash verifies a password against a PHC string: verify, or a
	// counting stand-in in tests.
	hash func(hash, password string) (bool, error)

	dummyOnce sync.Once
	dummy     string // hash verified for unknown users
}

// Options configures an Authenticator. The zero value verifies every login.
type Options struct {
	// CacheTTL is how long a successful verification of a user's password
	// is remembered, so that the next logins with that password skip the
	// hash (cache.go); 0: not at all.
	CacheTTL time.Duration
	// CacheSize bounds the remembered verifications; 0: DefaultCacheSize.
	CacheSize int
}

// New returns an Authenticator that looks users up in dir.
func New(dir store.Directory, opts Options) *Authenticator {
	return &Authenticator{
		dir:   dir,
		sem:   make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
		cache: newLoginCache(opts.CacheTTL, opts.CacheSize),
		mem:   newMemReleaser(),
		hash:  verify,
	}
}

// Login returns the user with address username (any spelling that
// NormalizeName maps to it) if password is theirs. Any mismatch returns ErrFailed after about the time
// of a hash verification, whether or not the user exists. A directory
// failure returns an error that is not ErrFailed, so the protocol can
// answer "temporary failure". With Options.CacheTTL, a password verified
// for the user less than the TTL ago is accepted without hashing again.
func (a *Authenticator) Login(ctx context.Context, username, password string) (store.User, error) {
	address := NormalizeName(username)
	if address == "" || len(password) > maxPassword || len(username) > 320 {
		return store.User{}, ErrFailed
	}
	u, err := a.dir.UserByAddress(ctx, address)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as for a real user (timing must not tell
		// which addresses exist).
		_, _ = a.verify(ctx, a.dummyHash(), password)
		return store.User{}, ErrFailed
	}
	if err != nil {
		return store.User{}, fmt.Errorf("auth: looking up user: %w", err)
	}
	if a.cache == nil {
		return a.check(ctx, u, password)
	}
	k := a.cache.key(u.ID, u.PasswordHash, password)
	for {
		cached, wait := a.cache.claim(k)
		if cached {
			return u, nil
		}
		if wait == nil {
			break
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return store.User{}, fmt.Errorf("auth: %w", ctx.Err())
		}
	}
	verified := false
	defer func() { a.cache.release(k, verified) }() // even on a panic, or the waiters would hang
	u, err = a.check(ctx, u, password)
	verified = err == nil
	return u, err
}

// check verifies password against u's hash; ErrFailed if it does not match.
func (a *Authenticator) check(ctx context.Context, u store.User, password string) (store.User, error) {
	ok, err := a.verify(ctx, u.PasswordHash, password)
	if ctx.Err() != nil {
		return store.User{}, fmt.Errorf("auth: %w", ctx.Err())
	}
	if err != nil || !ok {
		return store.User{}, ErrFailed
	}
	return u, nil
}

// verify checks password against hash, waiting for a free slot.
func (a *Authenticator) verify(ctx context.Context, hash, password string) (bool, error) {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.sem }()
	a.mem.start()
	defer a.mem.done()
	h := hash
	if _, err := parsePHC(hash); err != nil {
		// A user without a usable hash (disabled account) still costs a
		// verification.
		h = a.dummyHash()
		_, _ = a.hash(h, password)
		return false, err
	}
	return a.hash(h, password)
}

// dummyHash is a hash of a random password, made once.
func (a *Authenticator) dummyHash() string {
	a.dummyOnce.Do(func() {
		h, err := HashPassword(GeneratePassword())
		if err != nil {
			// Still a valid PHC string, so verification runs at full cost.
			h = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" +
				"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
		a.dummy = h
	})
	return a.dummy
}
