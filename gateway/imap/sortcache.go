package imapgw

import (
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/gateway/imap/sortthread"
)

// defaultSortCacheBytes bounds the sort-key cache: the keys of a message
// take some 400 to 800 bytes with its references, so 16 MiB hold those of
// 20,000 to 40,000 messages.
const defaultSortCacheBytes = 16 << 20

// sortEntryOverhead is what an entry costs besides its strings: the
// struct, the map slot and the string headers.
const sortEntryOverhead = 256

// sortEntry is what SORT and THREAD use of a message besides its head
// (UID, arrival, size), made once from its index summary: the sent date,
// the comparison keys (base subject, addresses) and, once a THREAD
// REFERENCES asked for them, the Message-ID's references. An entry is
// shared by the sessions and never changed; one made without references
// is replaced by one with them.
type sortEntry struct {
	sent      time.Time
	keys      sortthread.Keys
	messageID string
	refs      []string
	hasRefs   bool // refs were read (THREAD=REFERENCES)
	bytes     int  // what the entry holds, for the cache's bound
}

// size is what e holds under key, about.
func (e *sortEntry) size(key string) int {
	n := sortEntryOverhead + len(key) + len(e.messageID) + len(e.keys.Subject) +
		len(e.keys.From) + len(e.keys.To) + len(e.keys.Cc) + len(e.keys.DisplayFrom) + len(e.keys.DisplayTo)
	for _, r := range e.refs {
		n += 16 + len(r)
	}
	return n
}

// sortCache keeps the sortEntry of messages by object key, shared by the
// sessions of this process, so that a SORT or THREAD of a mailbox seen
// before decodes no summary: an object never changes, so neither do its
// keys. Two generations bounded in bytes approximate least-recently-used
// as metaCache does: when the current one holds half the bound it becomes
// the old one, and a hit in the old one moves the entry back.
type sortCache struct {
	mu        sync.Mutex
	max       int // bytes in both generations
	curBytes  int
	cur, prev map[string]*sortEntry
}

func newSortCache(maxBytes int) *sortCache {
	return &sortCache{max: maxBytes, cur: map[string]*sortEntry{}}
}

// getAll sets out[i] to the entry of keys[i], nil for those not cached.
func (c *sortCache) getAll(keys []string, out []*sortEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		if e := c.cur[k]; e != nil {
			out[i] = e
			continue
		}
		if e := c.prev[k]; e != nil {
			delete(c.prev, k)
			c.putLocked(k, e)
			out[i] = e
		}
	}
}

func (c *sortCache) put(key string, e *sortEntry) {
	e.bytes = e.size(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.cur[key]; old != nil {
		c.curBytes -= old.bytes
		delete(c.cur, key)
	}
	delete(c.prev, key)
	c.putLocked(key, e)
}

func (c *sortCache) putLocked(key string, e *sortEntry) {
	if c.curBytes+e.bytes > c.max/2 {
		c.prev, c.cur, c.curBytes = c.cur, make(map[string]*sortEntry, len(c.cur)), 0
	}
	c.cur[key] = e
	c.curBytes += e.bytes
}
