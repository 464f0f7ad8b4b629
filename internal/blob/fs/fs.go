// Package fs is the blob store of the embedded default: objects are files in
// a local directory (file://DIR).
//
// Layout. The object with key "a/b/c" is the file DIR/a~/b~/c: every
// directory level carries the suffix "~", a character keys cannot contain,
// so that "a" and "a/b" can both be objects (as in S3) and a directory never
// collides with a file. Objects are written to DIR/~tmp first and renamed
// into place, so a crash leaves at most a temporary file there, which List
// never shows and Open removes once it is an hour old.
//
// Format. An object file starts with one line holding its metadata as a JSON
// object, followed by the content. Metadata and content are thus replaced in
// one rename, atomically.
package fs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

const (
	dirSuffix = "~"    // appended to every directory level of a key
	tmpDir    = "~tmp" // temporary files of Puts in progress
	// staleTmp is the age after which Open removes a temporary file: no Put
	// runs that long, so its writer has died.
	staleTmp = time.Hour
)

// Store is a blob.Store in a local directory. It is safe for concurrent use
// by many goroutines and by several processes sharing the directory.
type Store struct {
	root    string
	durable sync.Map // directory path → struct{}: its entry is durable
	syncers sync.Map // directory path → *dirSyncer (dirsync.go)
	reads   blob.Counter
}

var _ blob.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir. A "file://" prefix is
// accepted and stripped. Open removes temporary files left by crashed Puts.
func Open(dir string) (*Store, error) {
	dir = strings.TrimPrefix(dir, "file://")
	if dir == "" {
		return nil, fault.Permanent(errors.New("blob/fs: empty directory"))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), 0o750); err != nil {
		return nil, fmt.Errorf("blob/fs: %w", err)
	}
	s := &Store{root: abs}
	s.cleanTmp(time.Now().Add(-staleTmp))
	return s, nil
}

// CountReads makes Get count the content bytes read from object files in
// c. Call it before the store is used.
func (s *Store) CountReads(c blob.Counter) { s.reads = c }

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.root }

// cleanTmp removes temporary files last modified before cutoff. Failures
// only leave garbage behind, so they are ignored.
func (s *Store) cleanTmp(cutoff time.Time) {
	dir := filepath.Join(s.root, tmpDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && info.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// path returns the file of key, which must be valid.
func (s *Store) path(key string) string {
	levels := strings.Split(key, "/")
	for i := range levels[:len(levels)-1] {
		levels[i] += dirSuffix
	}
	return filepath.Join(s.root, filepath.Join(levels...))
}

// ioErr classifies an I/O error: a missing file is blob.ErrNotFound
// (permanent), so is a corrupt file; anything else is temporary.
func ioErr(op, key string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fault.Permanent(fmt.Errorf("blob/fs: %s %q: %w", op, key, blob.ErrNotFound))
	}
	if errors.Is(err, errCorrupt) {
		return fault.Permanent(fmt.Errorf("blob/fs: %s %q: %w", op, key, err))
	}
	return fmt.Errorf("blob/fs: %s %q: %w", op, key, err)
}

// syncDir makes the entries of dir durable (a rename or create in it).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
