package search

import (
	"context"
	"errors"
	"fmt"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// maxSegments bounds the segments of a user looked at in one listing.
const maxSegments = 1000

// listSegments returns the keys of user's segments, oldest first.
func listSegments(ctx context.Context, blobs blob.Store, user string) ([]string, error) {
	infos, err := blobs.List(ctx, SegmentPrefix(user), "", maxSegments)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(infos))
	for i, in := range infos {
		keys[i] = in.Key
	}
	return keys, nil
}

// readSegment reads and decodes one segment.
func readSegment(ctx context.Context, blobs blob.Store, key string) ([]doc, error) {
	rc, err := blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return decodeSegment(rc)
}

func (w *Writer) mergeAt() int {
	if w.MergeAt > 1 {
		return w.MergeAt
	}
	return DefaultMergeAt
}

// maybeMerge merges user's small segments when there are MergeAt of
// them: those under a quarter of the largest, so that a large segment is
// rewritten only when 4×MergeAt segments pile up, and the cost of merging
// stays about logarithmic in the mailbox, not linear per batch. Unless
// idle, it merges only 4×MergeAt segments or more, and leaves the user to
// mergeWaiting otherwise.
func (w *Writer) maybeMerge(ctx context.Context, user string, idle bool) error {
	infos, err := w.Blobs.List(ctx, SegmentPrefix(user), "", maxSegments)
	if err != nil || len(infos) < w.mergeAt() {
		return err
	}
	if !idle && len(infos) < 4*w.mergeAt() {
		w.mu.Lock()
		w.unmerged[user] = true
		w.mu.Unlock()
		return nil
	}
	var largest int64
	for _, in := range infos {
		largest = max(largest, in.Size)
	}
	var small, all []string
	for _, in := range infos {
		all = append(all, in.Key)
		if in.Size < largest/4 {
			small = append(small, in.Key)
		}
	}
	switch {
	case len(small) >= w.mergeAt():
		return Merge(ctx, w.Blobs, w.Store, user, small)
	case len(all) >= 4*w.mergeAt():
		return Merge(ctx, w.Blobs, w.Store, user, all)
	}
	return nil
}

// Merge replaces the segments keys of user by one holding their texts of
// the objects the user still holds. The segments are listed before the
// user's entries are read, so a text is only dropped for an object that
// had been entered and was gone again. A segment deleted meanwhile by
// another merge is skipped; running two merges at once leaves duplicates
// that a later merge removes, never a gap.
func Merge(ctx context.Context, blobs blob.Store, st store.Mailboxes, user string, keys []string) error {
	merged := map[string]doc{}
	var read []string
	for _, k := range keys {
		docs, err := readSegment(ctx, blobs, k)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, d := range docs {
			merged[d.Key] = d
		}
		read = append(read, k)
	}
	held, err := heldObjects(ctx, st, user)
	if err != nil {
		return err
	}
	docs := make([]doc, 0, len(merged))
	for key, d := range merged {
		if held[key] {
			docs = append(docs, d)
		}
	}
	w := &Writer{Blobs: blobs}
	if len(docs) > 0 {
		if err := w.writeSegment(ctx, user, docs); err != nil {
			return err
		}
	}
	var errs []error
	for _, k := range read {
		if err := blobs.Delete(ctx, k); err != nil {
			errs = append(errs, fmt.Errorf("search: delete %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// heldObjects returns the object keys of every entry of user.
func heldObjects(ctx context.Context, st store.Mailboxes, user string) (map[string]bool, error) {
	mbs, err := st.ListMailboxes(ctx, user)
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, mb := range mbs {
		ms, err := st.MessageHeads(ctx, user, mb.ID, 1, 0, 0)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			held[m.BlobKey] = true
		}
	}
	return held, nil
}

// DeleteUser deletes every segment of user (user del, after the purge).
func DeleteUser(ctx context.Context, blobs blob.Store, user string) error {
	for {
		keys, err := listSegments(ctx, blobs, user)
		if err != nil || len(keys) == 0 {
			return err
		}
		for _, k := range keys {
			if err := blobs.Delete(ctx, k); err != nil {
				return fmt.Errorf("search: delete %s: %w", k, err)
			}
		}
	}
}
