package imapgw

import (
	"sync"

	"github.com/emersion/go-imap/v2"
)

// defaultMetaEntries bounds the metadata cache: about 1 KiB each, so some
// 32 MiB at most.
const defaultMetaEntries = 32 << 10

// fetchMeta is what a mailbox sync asks of every message besides flags:
// its ENVELOPE and BODYSTRUCTURE, decoded from the index summary.
type fetchMeta struct {
	env    *imap.Envelope
	routes *[6][]string // source routes of env's addresses, nil for none
	bs     imap.BodyStructure
	// preview is the RFC 8970 preview; hasPreview false for a summary
	// made before previews were kept, whose preview comes from the object.
	preview    string
	hasPreview bool
}

// metaCache keeps the fetchMeta of recently served messages by blob key,
// so that a client syncing a mailbox again, or another device syncing the
// same one, skips decoding the summaries. An object never changes, so an
// entry never goes stale. Two generations make it a cheap approximation of
// least-recently-used: when the current one is full it becomes the old
// one, and a hit in the old one moves the entry back.
type metaCache struct {
	mu        sync.Mutex
	max       int // entries in both generations
	cur, prev map[string]*fetchMeta
}

func newMetaCache(max int) *metaCache {
	return &metaCache{max: max, cur: map[string]*fetchMeta{}}
}

func (c *metaCache) get(key string) *fetchMeta {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.cur[key]; m != nil {
		return m
	}
	if m := c.prev[key]; m != nil {
		delete(c.prev, key)
		c.putLocked(key, m)
		return m
	}
	return nil
}

func (c *metaCache) put(key string, m *fetchMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, m)
}

func (c *metaCache) putLocked(key string, m *fetchMeta) {
	if len(c.cur) >= c.max/2 {
		c.prev, c.cur = c.cur, make(map[string]*fetchMeta, len(c.cur))
	}
	c.cur[key] = m
}
