// Package blob defines the object store that holds message bodies and index
// snapshots: a local directory in the embedded default (blob/fs), an
// S3-compatible bucket in the cloud.
//
// Objects are written once and never modified. A Put either makes the whole
// object visible with its metadata or nothing at all.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (wrapped) when a key does not exist.
// It is permanent: see fault.IsPermanent.
var ErrNotFound = errors.New("blob: object not found")

// Info describes a stored object.
type Info struct {
	Key      string
	Size     int64             // bytes of content, metadata excluded
	Modified time.Time         // when the object was written
	Meta     map[string]string // metadata given to Put; nil from List
}

// Store is an object store. Keys are slash-separated paths of the characters
// [A-Za-z0-9._/-]; a key never starts or ends with "/" and never contains "..".
// Metadata keys are lower-case [a-z0-9-]; values are printable ASCII
// (callers encode anything else).
type Store interface {
	// Put streams r, of unknown length, into key with metadata meta and
	// returns the number of content bytes written. The object becomes
	// visible only when Put returns nil, and is durable by then. If key
	// exists it is replaced atomically.
	Put(ctx context.Context, key string, r io.Reader, meta map[string]string) (int64, error)

	// Get returns the content of key starting at offset off. If length is
	// negative it reads to the end, else at most length bytes.
	Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)

	// Stat returns the size and metadata of key.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// List returns up to limit objects whose key starts with prefix and sorts
	// strictly after startAfter (byte order), in ascending key order.
	// Meta is not filled in.
	List(ctx context.Context, prefix, startAfter string, limit int) ([]Info, error)
}

// MessageKey is the object key of the raw message with queue id id (a ULID,
// so keys sort by time and "recent objects" is one List with startAfter).
func MessageKey(id string) string { return "msg/" + id }
