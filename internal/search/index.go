package search

import (
	"container/list"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults of the Index's zero values.
const (
	DefaultCacheBytes = 256 << 20
	DefaultListEvery  = time.Second
)

var _ store.HeadTextIndex = (*Index)(nil)

// Index answers SEARCH BODY and TEXT from a user's segments. It lists
// them at most once per ListEvery per user and keeps the segments it read
// (immutable, so never stale) up to CacheBytes of text, least recently
// searched users going first. A listing that is out of date only leaves
// newer messages unknown: the caller reads them.
type Index struct {
	Blobs      blob.Store
	Store      store.Mailboxes
	CacheBytes int64         // 0: DefaultCacheBytes
	ListEvery  time.Duration // 0: DefaultListEvery; < 0: every search lists

	mu    sync.Mutex
	users map[string]*list.Element // of *userView
	lru   list.List
	bytes int64
}

// userView is what is known of one user's segments.
type userView struct {
	user   string
	mu     sync.Mutex // held while the view is brought up to date
	listed time.Time
	keys   []string         // the segments the view was built from
	segs   map[string][]doc // by segment key
	docs   map[string]*doc  // by object key, newest segment first
	bytes  int64
	// accounted is what the Index counts for the view (under Index.mu).
	accounted int64
}

// SearchText implements store.TextIndex.
func (ix *Index) SearchText(ctx context.Context, userID, mailboxID, pattern string, head bool) (hits, unknown []uint32, err error) {
	heads, err := ix.Store.MessageHeads(ctx, userID, mailboxID, 1, 0, 0)
	if err != nil {
		return nil, nil, err
	}
	return ix.SearchHeads(ctx, userID, heads, pattern, head)
}

// SearchHeads implements store.HeadTextIndex.
func (ix *Index) SearchHeads(ctx context.Context, userID string, heads []store.Message, pattern string, head bool) (hits, unknown []uint32, err error) {
	v, err := ix.view(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	p := strings.ToLower(pattern)
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, m := range heads {
		d := v.docs[m.BlobKey]
		switch {
		case d == nil:
			unknown = append(unknown, m.UID)
		case d.contains(p, head):
			hits = append(hits, m.UID)
		case d.Truncated:
			unknown = append(unknown, m.UID)
		}
	}
	return hits, unknown, nil
}

// view returns userID's view, brought up to date if it was listed more
// than ListEvery ago.
func (ix *Index) view(ctx context.Context, user string) (*userView, error) {
	ix.mu.Lock()
	if ix.users == nil {
		ix.users = map[string]*list.Element{}
	}
	el := ix.users[user]
	if el == nil {
		el = ix.lru.PushFront(&userView{user: user, segs: map[string][]doc{}})
		ix.users[user] = el
	} else {
		ix.lru.MoveToFront(el)
	}
	v := el.Value.(*userView)
	ix.mu.Unlock()

	v.mu.Lock()
	defer v.mu.Unlock()
	every := ix.ListEvery
	if every == 0 {
		every = DefaultListEvery
	}
	if every > 0 && time.Since(v.listed) < every {
		return v, nil
	}
	keys, err := listSegments(ctx, ix.Blobs, user)
	if err != nil {
		return nil, err
	}
	v.listed = time.Now()
	if slices.Equal(keys, v.keys) {
		return v, nil
	}
	if err := v.load(ctx, ix.Blobs, keys); err != nil {
		return nil, err
	}
	ix.account(v, v.bytes)
	return v, nil
}

// load reads the segments of keys it lacks, forgets those no longer
// listed, and rebuilds the map of documents. A segment deleted since the
// listing (merged) is skipped: its documents are in the merged one, which
// the next listing finds.
func (v *userView) load(ctx context.Context, blobs blob.Store, keys []string) error {
	segs := make(map[string][]doc, len(keys))
	for _, k := range keys {
		if docs, ok := v.segs[k]; ok {
			segs[k] = docs
			continue
		}
		docs, err := readSegment(ctx, blobs, k)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		segs[k] = docs
	}
	v.keys, v.segs = keys, segs
	v.docs = map[string]*doc{}
	v.bytes = 0
	for i := len(keys) - 1; i >= 0; i-- {
		docs := segs[keys[i]]
		for j := range docs {
			d := &docs[j]
			if _, ok := v.docs[d.Key]; ok {
				continue
			}
			if d.filter == nil {
				d.index()
			}
			v.bytes += int64(len(d.Key)+len(d.Head)+len(d.Body)) + bloomBits/8
			v.docs[d.Key] = d
		}
	}
	return nil
}

// account records that v holds n bytes and evicts the least recently
// used views beyond the bound (the one just used stays).
func (ix *Index) account(v *userView, n int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, ok := ix.users[v.user]; ok {
		ix.bytes += n - v.accounted
		v.accounted = n
	}
	limit := ix.CacheBytes
	if limit <= 0 {
		limit = DefaultCacheBytes
	}
	for ix.bytes > limit && ix.lru.Len() > 1 {
		el := ix.lru.Back()
		old := el.Value.(*userView)
		ix.lru.Remove(el)
		delete(ix.users, old.user)
		ix.bytes -= old.accounted
	}
}
