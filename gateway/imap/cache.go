package imapgw

import (
	"container/list"
	"sync"
)

// Cache bounds: clients often fetch a message's parts one after another, so
// recently read objects are kept; large ones are not, to keep memory flat.
const (
	defaultCacheBytes = 32 << 20
	defaultCacheEntry = 4 << 20
)

// bodyCache is a least-recently-used cache of message objects by blob key,
// bounded by total bytes. Objects never change once written, so entries
// only go when evicted (the object of an expunged message ages out).
type bodyCache struct {
	mu       sync.Mutex
	max      int64 // total bytes
	maxEntry int64
	size     int64
	order    *list.List // front = most recent; values are *cacheEntry
	byKey    map[string]*list.Element
}

type cacheEntry struct {
	key  string
	data []byte
}

func newBodyCache(max, maxEntry int64) *bodyCache {
	return &bodyCache{max: max, maxEntry: maxEntry, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the cached object of key. Callers must not modify it.
func (c *bodyCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).data, true
}

// put caches data under key unless it is too large.
func (c *bodyCache) put(key string, data []byte) {
	if int64(len(data)) > c.maxEntry {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, data: data})
	c.size += int64(len(data))
	for c.size > c.max {
		c.evict(c.order.Back())
	}
}

func (c *bodyCache) evict(e *list.Element) {
	ent := c.order.Remove(e).(*cacheEntry)
	delete(c.byKey, ent.key)
	c.size -= int64(len(ent.data))
}
