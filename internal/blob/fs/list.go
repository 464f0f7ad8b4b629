package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// List implements blob.Store. It walks the tree depth-first in key order,
// entering only directories that can hold keys with prefix after
// startAfter, and stops after limit objects (limit <= 0: no limit).
func (s *Store) List(ctx context.Context, prefix, startAfter string, limit int) ([]blob.Info, error) {
	l := &lister{ctx: ctx, s: s, prefix: prefix, after: startAfter, limit: limit}
	if err := l.walk(s.root, ""); err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return l.out, nil
}

var errEnough = errors.New("limit reached")

type lister struct {
	ctx    context.Context
	s      *Store
	prefix string
	after  string
	limit  int
	out    []blob.Info
}

// entry is a directory entry with the key (file) or key prefix ending in
// "/" (directory) it stands for.
type entry struct {
	rep   string
	name  string
	isDir bool
}

// walk lists dir, whose keys all start with base.
func (l *lister) walk(dir, base string) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	entries, err := l.entries(dir, base)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.isDir {
			if err := l.walk(filepath.Join(dir, e.name), e.rep); err != nil {
				return err
			}
			continue
		}
		info, err := l.s.stat(e.rep, false)
		if errors.Is(err, blob.ErrNotFound) {
			continue // deleted since we read the directory
		}
		if err != nil {
			return err
		}
		l.out = append(l.out, info)
		if l.limit > 0 && len(l.out) >= l.limit {
			return errEnough
		}
	}
	return nil
}

// entries returns the entries of dir that may hold wanted keys, in key
// order. Names that are no part of the layout (~tmp, strays) are skipped.
func (l *lister) entries(dir, base string) ([]entry, error) {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // pruned by a concurrent Delete
	}
	if err != nil {
		return nil, ioErr("list", base, err)
	}
	names, err := f.Readdirnames(-1)
	_ = f.Close()
	if err != nil {
		return nil, ioErr("list", base, err)
	}
	var out []entry
	for _, name := range names {
		level, isDir := strings.CutSuffix(name, dirSuffix)
		if ValidKey(level) != nil || strings.Contains(level, "/") {
			continue
		}
		e := entry{rep: base + level, name: name, isDir: isDir}
		if isDir {
			e.rep += "/"
			// Every key below starts with e.rep: enter only if that can
			// match the prefix and some key there sorts after l.after.
			if !strings.HasPrefix(e.rep, l.prefix) && !strings.HasPrefix(l.prefix, e.rep) {
				continue
			}
			if l.after > e.rep && !strings.HasPrefix(l.after, e.rep) {
				continue
			}
		} else if !strings.HasPrefix(e.rep, l.prefix) || e.rep <= l.after {
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.rep, b.rep) })
	return out, nil
}
