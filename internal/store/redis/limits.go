package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

var _ store.Limiter = (*DB)(nil)

// hitLua adds ARGV[1] to the counter KEYS[1] and, when the counter has no
// expiry yet (it was just created), makes it expire after ARGV[2]
// milliseconds: the end of its window. One script, so a counter never
// outlives its window even if a client dies between the two commands.
const hitLua = `
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return c
`

var hitScript = goredis.NewScript(hitLua)

// limitKey is the counter of key in window index idx of length window:
// {lim:<key>}:<window ms>:<idx>. The hash tag keeps every window of one key
// on one slot; key comes from store.LimitKey, so it holds no braces.
func limitKey(key string, window time.Duration, idx int64) string {
	return "{lim:" + key + "}:" + strconv.FormatInt(window.Milliseconds(), 10) + ":" + strconv.FormatInt(idx, 10)
}

// Hit implements store.Limiter with INCRBY and PEXPIRE in one script.
func (db *DB) Hit(ctx context.Context, key string, n int64, window time.Duration) (int64, error) {
	if n < 0 || window < time.Millisecond || key == "" {
		return 0, fmt.Errorf("redis: limit hit: %w", store.ErrInvalid)
	}
	idx, left := store.LimitWindow(time.Now(), window)
	ttl := left.Milliseconds() + 1 // round up: never expire before the window ends
	c, err := hitScript.Run(ctx, db.rdb, []string{limitKey(key, window, idx)}, n, ttl).Int64()
	return c, wrap("limit hit", err)
}

// Count implements store.Limiter.
func (db *DB) Count(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window < time.Millisecond || key == "" {
		return 0, fmt.Errorf("redis: limit count: %w", store.ErrInvalid)
	}
	idx, _ := store.LimitWindow(time.Now(), window)
	c, err := db.rdb.Get(ctx, limitKey(key, window, idx)).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	return c, wrap("limit count", err)
}

// releaseLua takes ARGV[1] back from the counter KEYS[1], never below
// zero, and keeps its expiry; a counter that does not exist stays so.
const releaseLua = `
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c <= 0 then
	return 0
end
local n = tonumber(ARGV[1])
if n > c then
	n = c
end
return redis.call('DECRBY', KEYS[1], n)
`

var releaseScript = goredis.NewScript(releaseLua)

// Release implements store.Limiter.
func (db *DB) Release(ctx context.Context, key string, n int64, window time.Duration) (int64, error) {
	if n < 0 || window < time.Millisecond || key == "" {
		return 0, fmt.Errorf("redis: limit release: %w", store.ErrInvalid)
	}
	idx, _ := store.LimitWindow(time.Now(), window)
	c, err := releaseScript.Run(ctx, db.rdb, []string{limitKey(key, window, idx)}, n).Int64()
	return c, wrap("limit release", err)
}

// markKey is the key of a mark: {mark:<key>}; like limitKey, key holds no
// braces.
func markKey(key string) string { return "{mark:" + key + "}" }

// Mark implements store.Limiter with SET PX: Redis expires the mark.
func (db *DB) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if ttl < time.Millisecond || key == "" {
		return fmt.Errorf("redis: mark: %w", store.ErrInvalid)
	}
	return wrap("mark", db.rdb.Set(ctx, markKey(key), "1", ttl).Err())
}

// Marked implements store.Limiter.
func (db *DB) Marked(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("redis: marked: %w", store.ErrInvalid)
	}
	n, err := db.rdb.Exists(ctx, markKey(key)).Result()
	return n > 0, wrap("marked", err)
}
