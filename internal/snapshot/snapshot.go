// Package snapshot writes index snapshots to the bucket and rebuilds the
// index from them (invariant 2: the bucket is the record).
//
// A Snapshotter, run by workers under a lease, writes a user's whole index
// to idx/<user-id>/<change seq, 20 digits> whenever the user's change
// counter moved, at most once per Interval per user, and the directory to
// idx/directory/<unix nanoseconds, 20 digits> when it changed. It keeps the
// newest Keep of each.
//
// Reindex rebuilds the index after the index store lost data: directory
// and users from the newest snapshots (every mailbox with a new
// UIDVALIDITY), then every message object not in the restored index is
// delivered again through the queue (or, for IMAP APPEND objects, put back
// into its mailbox). Message content is never lost; flag changes, moves and
// expunges newer than the last snapshot may be.
package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Key layout.
const (
	Prefix       = "idx/"
	DirectoryDir = Prefix + "directory/"
)

// UserPrefix is the prefix of userID's snapshots.
func UserPrefix(userID string) string { return Prefix + userID + "/" }

// UserKey is the key of userID's snapshot at change seq: zero-padded, so
// that keys sort by seq.
func UserKey(userID string, seq uint64) string {
	return fmt.Sprintf("%s%020d", UserPrefix(userID), seq)
}

// DirectoryKey is the key of a directory snapshot taken at unix
// nanoseconds nanos.
func DirectoryKey(nanos int64) string { return fmt.Sprintf("%s%020d", DirectoryDir, nanos) }

// encode is gzip-compressed JSON at the fastest level: a snapshot is
// mostly repeated keys, which it already shrinks about fiftyfold, and the
// default level spends several times the compression CPU to save a fifth
// more (BenchmarkEncodeUser).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// put writes one snapshot object.
func put(ctx context.Context, blobs blob.Store, key, kind string, v any) error {
	b, err := encode(v)
	if err != nil {
		return fmt.Errorf("snapshot: encode %s: %w", key, err)
	}
	meta := map[string]string{"snapshot": kind, "version": strconv.Itoa(store.SnapshotVersion), "encoding": "gzip"}
	if _, err := blobs.Put(ctx, key, bytes.NewReader(b), meta); err != nil {
		return fmt.Errorf("snapshot: write %s: %w", key, err)
	}
	return nil
}

// load reads the snapshot object key into v; plain JSON is accepted too.
func load(ctx context.Context, blobs blob.Store, key string, v any) error {
	rc, err := blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return fmt.Errorf("snapshot: read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("snapshot: read %s: %w", key, err)
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("snapshot: %s: %w", key, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("snapshot: %s: %w", key, err)
		}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("snapshot: %s: %w", key, err)
	}
	return nil
}

// listKeys returns every key under prefix, in ascending order.
func listKeys(ctx context.Context, blobs blob.Store, prefix string) ([]string, error) {
	var keys []string
	after := ""
	for {
		page, err := blobs.List(ctx, prefix, after, listPage)
		if err != nil {
			return nil, fmt.Errorf("snapshot: list %s: %w", prefix, err)
		}
		for _, info := range page {
			keys = append(keys, info.Key)
		}
		if len(page) < listPage {
			return keys, nil
		}
		after = page[len(page)-1].Key
	}
}

const listPage = 1000
