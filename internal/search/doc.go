// Package search keeps the full-text index of the cloud deployment in the
// bucket (the SQLite driver keeps its own, see store.TextStore): per user,
// immutable segments fts/<user id>/<ULID> holding the searchable text of
// the user's message objects (message.ExtractText), written in batches by
// a Writer, merged by the Writer when a user has many, read and cached by
// an Index, which answers store.TextIndex. A message whose object no
// segment covers is left to the caller to read: losing a segment, or
// crashing before one is written, costs reads, never a missed match.
// Rebuild makes the text of existing mail from the objects.
package search

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

// segmentRoot is the prefix of every segment key.
const segmentRoot = "fts/"

// SegmentPrefix is the prefix of userID's segment keys.
func SegmentPrefix(userID string) string { return segmentRoot + userID + "/" }

// doc is the text of one object in a user's mailboxes.
type doc struct {
	Key       string `json:"k"`
	Head      string `json:"h,omitempty"`
	Body      string `json:"b,omitempty"`
	Truncated bool   `json:"t,omitempty"`

	filter *bloom // of Body, made when a gateway loads the doc
}

func newDoc(key string, t store.SearchText) doc {
	return doc{Key: key, Head: t.Head, Body: t.Body, Truncated: t.Truncated}
}

// contains reports whether the doc's text holds the folded pattern; the
// body is looked at only if its trigram filter (set by index) may hold it.
func (d *doc) contains(p string, head bool) bool {
	if (d.filter == nil || d.filter.mayContain(p)) && strings.Contains(d.Body, p) {
		return true
	}
	return head && strings.Contains(d.Head, p)
}

// index sets the doc's trigram filter of its body.
func (d *doc) index() {
	d.filter = new(bloom)
	d.filter.add(d.Body)
}

// segment is the content of one segment object.
type segment struct {
	Docs []doc `json:"docs"`
}

func encodeSegment(w io.Writer, docs []doc) error {
	// The fastest level: segments are written in the delivery path's
	// process, and merged again; text still shrinks about 4 times.
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(zw).Encode(segment{Docs: docs}); err != nil {
		return err
	}
	return zw.Close()
}

// maxSegment bounds what is read of one segment (uncompressed).
const maxSegment = 1 << 30

func decodeSegment(r io.Reader) ([]doc, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("search: segment: %w", err)
	}
	var s segment
	if err := json.NewDecoder(io.LimitReader(zr, maxSegment)).Decode(&s); err != nil {
		return nil, fmt.Errorf("search: segment: %w", err)
	}
	return s.Docs, nil
}
