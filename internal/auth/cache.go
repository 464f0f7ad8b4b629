package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// DefaultCacheSize bounds the login cache when Options.CacheSize is 0.
const DefaultCacheSize = 10000

// loginCache remembers successful password verifications for a while, so
// that a client opening many connections (or reconnecting every few
// minutes) pays argon2id once per TTL instead of once per login: what
// Dovecot calls auth_cache. Only successes are kept: a wrong password
// always costs a full verification.
//
// An entry is an HMAC-SHA256, under a key made at random when the process
// starts, of the user ID, the stored PHC string and the password. The
// password itself is never kept, and a changed password (a new PHC string,
// new salt) cannot match an entry made with the old one. An entry lives
// ttl from its verification; a hit does not extend it.
type loginCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	mac     hash.Hash // HMAC-SHA256 under the process key
	expires map[cacheKey]time.Time
	// inflight has the keys being verified, with a channel closed when done.
	inflight map[cacheKey]chan struct{}
	// order holds the keys by insertion, which is also expiry order (one
	// TTL for all); the oldest go first when full.
	order []cacheEntry
}

type cacheEntry struct {
	key     cacheKey
	expires time.Time
}

// newLoginCache returns a cache of at most size entries living ttl; nil
// (no cache) when ttl <= 0.
func newLoginCache(ttl time.Duration, size int) *loginCache {
	if ttl <= 0 {
		return nil
	}
	if size <= 0 {
		size = DefaultCacheSize
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported systems
	}
	return &loginCache{
		ttl:      ttl,
		max:      size,
		now:      time.Now,
		mac:      hmac.New(sha256.New, secret),
		expires:  make(map[cacheKey]time.Time),
		inflight: make(map[cacheKey]chan struct{}),
	}
}

// cacheKey is the HMAC of one (user ID, PHC string, password).
type cacheKey [sha256.Size]byte

// key derives the entry of (userID, phc, password). Each field is length
// prefixed so that no two different triples share an input.
func (c *loginCache) key(userID, phc, password string) cacheKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mac.Reset()
	var n [8]byte
	for _, f := range []string{userID, phc, password} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		c.mac.Write(n[:])
		c.mac.Write([]byte(f))
	}
	var k cacheKey
	c.mac.Sum(k[:0])
	return k
}

// claim reports whether k was verified less than the TTL ago. If not, and
// another login is verifying k right now, it returns a channel closed when
// that one is done (then claim again); otherwise the caller verifies k and
// must call release. So a burst of logins with one password (a client
// opening its connections at once) runs one argon2id, not one each.
func (c *loginCache) claim(k cacheKey) (cached bool, wait <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.expires[k]; ok && c.now().Before(exp) {
		return true, nil
	}
	if ch, ok := c.inflight[k]; ok {
		return false, ch
	}
	c.inflight[k] = make(chan struct{})
	return false, nil
}

// release ends the verification of k that claim gave the caller, and
// remembers it if it succeeded. Those waiting for it claim again: after a
// failure one of them verifies in turn, so no failure is shared.
func (c *loginCache) release(k cacheKey, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.inflight[k])
	delete(c.inflight, k)
	if ok {
		c.add(k)
	}
}

// add remembers k, evicting expired entries and, when full, the oldest
// ones. c.mu is held.
func (c *loginCache) add(k cacheKey) {
	now := c.now()
	// Expired entries are at the front, so a key being added again (its
	// entry expired) has no stale entry left in order afterwards.
	for len(c.order) > 0 && (len(c.expires) >= c.max || !now.Before(c.order[0].expires)) {
		delete(c.expires, c.order[0].key)
		c.order[0] = cacheEntry{}
		c.order = c.order[1:]
	}
	exp := now.Add(c.ttl)
	c.expires[k] = exp
	c.order = append(c.order, cacheEntry{key: k, expires: exp})
}

// len is the number of entries, expired or not.
func (c *loginCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expires)
}
