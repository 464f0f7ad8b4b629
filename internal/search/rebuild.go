package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/store"
)

// rebuildBatch is the segment size of a rebuild.
const rebuildBatch = 1024

// Rebuild gives every entry of userID that has no text its text, read
// from its object (the bucket is the record): into the store if it is a
// store.TextStore, else as new segments in blobs. progress, if not nil,
// is called after each object with the count done and the total. It
// returns how many texts it wrote; an object that cannot be read is
// skipped (counted in the error).
func Rebuild(ctx context.Context, st store.Store, blobs blob.Store, userID string, progress func(done, total int)) (int, error) {
	todo, err := textless(ctx, st, blobs, userID)
	if err != nil {
		return 0, err
	}
	ts, inStore := st.(store.TextStore)
	w := &Writer{Blobs: blobs, Store: st, Batch: rebuildBatch}
	var errs []error
	n := 0
	for i, e := range todo {
		text, err := objectText(ctx, blobs, e.m.BlobKey, e.m.Prefix)
		switch {
		case errors.Is(err, blob.ErrNotFound):
			// Expunged and collected meanwhile.
		case err != nil:
			errs = append(errs, err)
		case inStore:
			for _, uid := range e.uids {
				if err := ts.SetText(ctx, userID, uid.mailbox, uid.uid, text); err != nil && !errors.Is(err, store.ErrNotFound) {
					errs = append(errs, err)
				}
			}
			n++
		default:
			w.AddText(userID, e.m.BlobKey, text)
			if len(w.pending[userID].docs) >= rebuildBatch {
				if err := w.Flush(ctx); err != nil {
					return n, err
				}
			}
			n++
		}
		if progress != nil {
			progress(i+1, len(todo))
		}
	}
	if !inStore {
		if err := w.Flush(ctx); err != nil {
			return n, err
		}
	}
	return n, errors.Join(errs...)
}

// entryRef names one entry.
type entryRef struct {
	mailbox string
	uid     uint32
}

// rebuildItem is one object to read, with the entries that want its text.
type rebuildItem struct {
	m    store.Message
	uids []entryRef
}

// textless lists the entries of userID without text, by object: those
// the TextStore has none for, or (cloud) whose object no segment covers.
func textless(ctx context.Context, st store.Store, blobs blob.Store, userID string) ([]rebuildItem, error) {
	mbs, err := st.ListMailboxes(ctx, userID)
	if err != nil {
		return nil, err
	}
	ts, inStore := st.(store.TextStore)
	var covered map[string]*doc
	if !inStore {
		v := &userView{segs: map[string][]doc{}}
		keys, err := listSegments(ctx, blobs, userID)
		if err != nil {
			return nil, err
		}
		if err := v.load(ctx, blobs, keys); err != nil {
			return nil, err
		}
		covered = v.docs
	}
	byKey := map[string]int{}
	var items []rebuildItem
	for _, mb := range mbs {
		var ms []store.Message
		if inStore {
			uids, err := ts.TextlessUIDs(ctx, userID, mb.ID)
			if err != nil {
				return nil, err
			}
			for _, uid := range uids {
				m, err := st.Messages(ctx, userID, mb.ID, uid, uid, 0)
				if err != nil {
					return nil, err
				}
				ms = append(ms, m...)
			}
		} else {
			all, err := st.Messages(ctx, userID, mb.ID, 1, 0, 0)
			if err != nil {
				return nil, err
			}
			for _, m := range all {
				if covered[m.BlobKey] == nil {
					ms = append(ms, m)
				}
			}
		}
		for _, m := range ms {
			ref := entryRef{mailbox: mb.ID, uid: m.UID}
			if i, ok := byKey[m.BlobKey]; ok && !inStore {
				items[i].uids = append(items[i].uids, ref)
				continue
			}
			byKey[m.BlobKey] = len(items)
			items = append(items, rebuildItem{m: m, uids: []entryRef{ref}})
		}
	}
	return items, nil
}

// objectText reads an object and returns the text the index keeps of an
// entry with prefix.
func objectText(ctx context.Context, blobs blob.Store, key string, prefix []byte) (store.SearchText, error) {
	rc, err := blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return store.SearchText{}, fmt.Errorf("search: reading %s: %w", key, err)
	}
	defer rc.Close()
	t, err := message.ExtractText(io.Reader(rc), message.IndexLimits)
	if err != nil {
		return store.SearchText{}, fmt.Errorf("search: reading %s: %w", key, err)
	}
	return EntryText(prefix, t), nil
}

// EntryText is the text the index keeps of an entry: its prefix lines'
// header text before the object's.
func EntryText(prefix []byte, t message.Text) store.SearchText {
	return store.SearchText{Head: message.PrefixText(prefix) + t.Head, Body: t.Body, Truncated: t.Truncated}
}

// ScanText is the text a search that reads an entry looks at: the whole
// text of the prefix lines and the object bytes.
func ScanText(prefix, obj []byte) message.Text {
	t, _ := message.ExtractText(bytes.NewReader(obj), message.NoLimits)
	t.Head = message.PrefixText(prefix) + t.Head
	return t
}
