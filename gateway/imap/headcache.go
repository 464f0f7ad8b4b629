package imapgw

import (
	"cmp"
	"container/list"
	"context"
	"slices"
	"sync"

	"github.com/bucketmail/bucketmail/internal/store"
)

// defaultHeadEntries bounds the head cache: a head (UID, flags,
// mod-sequence, size, internal date, object key) takes some 250 bytes, so
// about 32 MiB at most. A mailbox with more messages is not cached.
const defaultHeadEntries = 128 << 10

// headCache keeps the message heads of recently used mailboxes, shared by
// the sessions of this process, so that a sync, a flag search or a FETCH
// of flags reads what changed since the cache's mod-sequence (a few rows)
// instead of every message. The index stays the truth (invariant 5): an
// entry is complete for every change up to its mod-sequence, and a session
// asks for at least the mod-sequence its view is synced with, which every
// process's change moves (RFC 7162: every flag change and every new
// message gets a new mod-sequence). Expunged messages may linger in an
// entry; lookups are by the UIDs of the session's view, and a UID is never
// reused within a UIDVALIDITY, so a lingering head is never served for
// another message.
type headCache struct {
	mu    sync.Mutex
	max   int // heads in all entries
	held  int
	boxes map[headKey]*list.Element // of *boxHeads, most recently used first
	lru   list.List
}

type headKey struct {
	userID, mailboxID string
	uidValidity       uint32
}

type boxHeads struct {
	key headKey
	mu  sync.Mutex // one load at a time per mailbox
	// Under mu. heads is in UID order, without prefixes and summaries; it
	// is replaced, never changed in place, so a caller may keep reading it.
	loaded bool
	modSeq uint64
	heads  []store.Message
	// Under headCache.mu.
	counted int
	evicted bool
}

func newHeadCache(max int) *headCache {
	return &headCache{max: max, boxes: map[headKey]*list.Element{}}
}

// box returns the entry of k, made if missing, as the most recently used.
func (c *headCache) box(k headKey) *boxHeads {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.boxes[k]; e != nil {
		c.lru.MoveToFront(e)
		return e.Value.(*boxHeads)
	}
	b := &boxHeads{key: k}
	c.boxes[k] = c.lru.PushFront(b)
	return b
}

// account records b's size and evicts the least recently used entries
// while the cache holds too much. An entry too large for the cache goes.
func (c *headCache) account(b *boxHeads, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.evicted {
		return
	}
	c.held += n - b.counted
	b.counted = n
	if n > c.max {
		c.evictLocked(b)
	}
	for c.held > c.max {
		c.evictLocked(c.lru.Back().Value.(*boxHeads))
	}
}

func (c *headCache) evictLocked(b *boxHeads) {
	c.lru.Remove(c.boxes[b.key])
	delete(c.boxes, b.key)
	c.held -= b.counted
	b.evicted = true
}

// forget drops the entry of k.
func (c *headCache) forget(k headKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.boxes[k]; e != nil {
		c.evictLocked(e.Value.(*boxHeads))
	}
}

// lingerSlack is how many heads of expunged messages an entry may hold
// beyond its mailbox's messages (at least; a quarter of them for a large
// mailbox) before it is dropped and loaded again without them.
const lingerSlack = 256

// trim is told that mailbox k now holds messages messages. The heads of
// messages expunged meanwhile stay in the entry, so that a session that
// has not reported the EXPUNGE yet still answers FETCH of their flags,
// envelope and structure (RFC 9051 section 7.5.1 leaves the message in its
// view until then); once they are more than the slack, the entry is
// dropped, which bounds what a mailbox with many expunges keeps.
func (c *headCache) trim(k headKey, messages int) {
	c.mu.Lock()
	e := c.boxes[k]
	c.mu.Unlock()
	if e == nil {
		return
	}
	b := e.Value.(*boxHeads)
	b.mu.Lock()
	n := len(b.heads)
	b.mu.Unlock()
	if n > messages+max(lingerSlack, messages/4) {
		c.forget(k)
	}
}

// heads returns the heads of mailbox k, complete for every change up to
// mod-sequence atLeast at least. With again, it also reads what changed
// since the entry's own mod-sequence, whatever atLeast is: a view can hold
// a UID newer than the mod-sequence it is synced with (see session.sync).
// The slice is shared: callers must not change it.
func (c *headCache) heads(ctx context.Context, st store.Mailboxes, k headKey, atLeast uint64, again bool) ([]store.Message, error) {
	b := c.box(k)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.loaded:
		// Listed after atLeast was read, so every change up to it is in.
		hs, err := st.MessageHeads(ctx, k.userID, k.mailboxID, 1, 0, 0)
		if err != nil {
			return nil, err
		}
		b.heads, b.modSeq, b.loaded = stripHeads(hs), atLeast, true
	case again || b.modSeq < atLeast:
		changed, err := st.MessageHeads(ctx, k.userID, k.mailboxID, 1, 0, b.modSeq)
		if err != nil {
			return nil, err
		}
		b.heads, b.modSeq = mergeHeads(b.heads, stripHeads(changed)), max(b.modSeq, atLeast)
	}
	c.account(b, len(b.heads))
	return b.heads, nil
}

// stripHeads drops what a driver may list with the heads but the cache
// does not keep (summaries are cached by object key in metaCache).
func stripHeads(hs []store.Message) []store.Message {
	for i := range hs {
		hs[i].Prefix, hs[i].Summary = nil, nil
	}
	return hs
}

// mergeHeads returns a new slice: old with the entries of changed (both in
// UID order) added or, when newer, replacing theirs.
func mergeHeads(old, changed []store.Message) []store.Message {
	if len(changed) == 0 {
		return old
	}
	out := make([]store.Message, 0, len(old)+len(changed))
	i, j := 0, 0
	for i < len(old) && j < len(changed) {
		switch c := cmp.Compare(old[i].UID, changed[j].UID); {
		case c < 0:
			out = append(out, old[i])
			i++
		case c > 0:
			out = append(out, changed[j])
			j++
		default:
			if changed[j].ModSeq >= old[i].ModSeq {
				out = append(out, changed[j])
			} else {
				out = append(out, old[i])
			}
			i++
			j++
		}
	}
	out = append(out, old[i:]...)
	return append(out, changed[j:]...)
}

// findHead returns the index of uid in hs (UID order), searching from
// start, or -1.
func findHead(hs []store.Message, start int, uid uint32) int {
	i, ok := slices.BinarySearchFunc(hs[start:], uid, func(m store.Message, uid uint32) int { return cmp.Compare(m.UID, uid) })
	if !ok {
		return -1
	}
	return start + i
}
