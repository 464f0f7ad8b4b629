package resolver

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"time"
)

// Lookuper is what the SPF, DKIM and DMARC checks ask of DNS; *net.Resolver
// has it.
type Lookuper interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// maxCached bounds a Cache: when full it starts again empty.
const maxCached = 10000

// Cache remembers the answers of a Lookuper for at most ttl: records and
// "no such name or record", never a failure, which the next lookup tries
// again. The Go resolver does not give the records' own TTLs, so ttl caps
// them all; mail from one domain in a burst then costs one lookup of each
// of its SPF, DKIM and DMARC records instead of one per message.
type Cache struct {
	r   Lookuper
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	v   any
	err error
	exp time.Time
}

// NewCache returns r behind a cache of ttl; with ttl 0 or less, r itself.
func NewCache(r Lookuper, ttl time.Duration) Lookuper {
	if ttl <= 0 {
		return r
	}
	return &Cache{r: r, ttl: ttl, now: time.Now, m: map[string]cached{}}
}

// lookup answers key from the cache or from fn, and keeps what may be kept.
func lookup[T any](c *Cache, key string, fn func() ([]T, error)) ([]T, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.exp) {
		v, _ := e.v.([]T)
		return slices.Clone(v), e.err
	}
	v, err := fn()
	var dnsErr *net.DNSError
	if err == nil || errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		c.mu.Lock()
		if len(c.m) >= maxCached {
			clear(c.m)
		}
		c.m[key] = cached{v: slices.Clone(v), err: err, exp: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return v, err
}

func (c *Cache) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return lookup(c, "txt "+name, func() ([]string, error) { return c.r.LookupTXT(ctx, name) })
}

func (c *Cache) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return lookup(c, "mx "+name, func() ([]*net.MX, error) { return c.r.LookupMX(ctx, name) })
}

func (c *Cache) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return lookup(c, "ip "+host, func() ([]net.IPAddr, error) { return c.r.LookupIPAddr(ctx, host) })
}

func (c *Cache) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return lookup(c, "ptr "+addr, func() ([]string, error) { return c.r.LookupAddr(ctx, addr) })
}
