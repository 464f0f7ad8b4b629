package worker

import (
	"context"
	"sync"
	"time"
)

// DefaultSieveTTL is how long a worker reuses the active script it read
// for a user (Config.SieveTTL). Delivery otherwise reads the store once
// per recipient, the largest cost of filtering after the store writes;
// a script activated, replaced or deactivated takes effect within this
// delay on every worker.
const DefaultSieveTTL = 5 * time.Second

// maxCachedActive bounds the users whose active script a worker keeps.
const maxCachedActive = 4096

// activeEntry is a user's active script as read at a time.
type activeEntry struct {
	src string
	at  time.Time
}

// activeCache keeps each recipient's active script (or its absence) for
// a short time: a cache of what the store holds, never the record, so
// the worker stays stateless and a change reaches it within the TTL.
type activeCache struct {
	mu sync.Mutex
	m  map[string]activeEntry
}

// active returns uid's active script, read through w's store when the
// cached copy is older than the TTL.
func (w *Worker) active(ctx context.Context, uid string) (string, error) {
	ttl := w.cfg.SieveTTL
	if ttl < 0 {
		return w.cfg.Sieve.Active(ctx, uid)
	}
	c := &w.activeScripts
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[uid]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < ttl {
		return e.src, nil
	}
	src, err := w.cfg.Sieve.Active(ctx, uid)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedActive {
		c.m = map[string]activeEntry{}
	}
	c.m[uid] = activeEntry{src: src, at: now}
	return src, nil
}
