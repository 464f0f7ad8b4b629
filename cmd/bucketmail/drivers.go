package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
)

// openStore opens the index/queue/directory named by a store URL.
// sqlite://PATH is the embedded driver; PATH may be relative.
func openStore(url string) (store.Store, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, fmt.Errorf("store URL %q: want sqlite://PATH", url)
	}
	switch scheme {
	case "sqlite":
		if rest == "" {
			return nil, fmt.Errorf("store URL %q: missing path", url)
		}
		if err := os.MkdirAll(filepath.Dir(rest), 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		db, err := sqlite.Open(rest)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", url, err)
		}
		return db, nil
	default:
		return nil, fmt.Errorf("store URL %q: unsupported scheme %q (supported: sqlite://)", url, scheme)
	}
}

// openBlobs opens the object store named by a blob URL.
// file://DIR is the embedded driver; DIR may be relative.
func openBlobs(url string) (blob.Store, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, fmt.Errorf("blob URL %q: want file://DIR", url)
	}
	switch scheme {
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("blob URL %q: missing directory", url)
		}
		if err := os.MkdirAll(rest, 0o750); err != nil {
			return nil, fmt.Errorf("blobs: %w", err)
		}
		b, err := fs.Open(rest)
		if err != nil {
			return nil, fmt.Errorf("blobs %s: %w", url, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("blob URL %q: unsupported scheme %q (supported: file://)", url, scheme)
	}
}

// openStorage opens both drivers of s; the caller closes the store.
func openStorage(s storageConfig) (store.Store, blob.Store, error) {
	s.resolve()
	st, err := openStore(s.Store)
	if err != nil {
		return nil, nil, err
	}
	bl, err := openBlobs(s.Blobs)
	if err != nil {
		return nil, nil, errors.Join(err, st.Close())
	}
	return st, bl, nil
}
