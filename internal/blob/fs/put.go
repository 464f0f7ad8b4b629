package fs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bucketmail/bucketmail/internal/fault"
)

// copyBuf is the size of the buffer Put streams through.
const copyBuf = 128 << 10

// header is the first line of an object file.
type header struct {
	Meta map[string]string `json:"meta,omitempty"`
}

// Put implements blob.Store. The content goes to a temporary file, which is
// fsynced and renamed into place; the directory is fsynced too, so the
// object is durable once Put returns and never visible partially.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) (int64, error) {
	if err := ValidKey(key); err != nil {
		return 0, err
	}
	if err := validMeta(meta); err != nil {
		return 0, err
	}
	line, err := json.Marshal(header{Meta: meta})
	if err != nil {
		return 0, fault.Permanent(fmt.Errorf("blob/fs: put %q: %w", key, err))
	}
	if len(line) > maxMetaLen {
		return 0, fault.Permanent(fmt.Errorf("%w: %d bytes", errBadMeta, len(line)))
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tmp, n, err := s.writeTmp(ctx, append(line, '\n'), r)
	if err != nil {
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	if err := s.place(tmp, s.path(key)); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("blob/fs: put %q: %w", key, err)
	}
	return n, nil
}

// writeTmp writes head and then r to a new temporary file, fsyncs it and
// returns its name and the number of bytes copied from r. On error it
// leaves no file behind.
func (s *Store) writeTmp(ctx context.Context, head []byte, r io.Reader) (name string, n int64, err error) {
	dir := filepath.Join(s.root, tmpDir)
	f, err := os.CreateTemp(dir, "put-*")
	if errors.Is(err, os.ErrNotExist) { // someone removed ~tmp: recreate it
		if err = os.MkdirAll(dir, 0o750); err == nil {
			f, err = os.CreateTemp(dir, "put-*")
		}
	}
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(head); err != nil {
		return "", 0, err
	}
	// The wrapper hides f's ReadFrom, which would allocate its own buffer.
	n, err = io.CopyBuffer(struct{ io.Writer }{f}, ctxReader{ctx, r}, make([]byte, copyBuf))
	if err != nil {
		return "", 0, err
	}
	if err = f.Sync(); err != nil {
		return "", 0, err
	}
	if err = f.Close(); err != nil {
		return "", 0, err
	}
	return f.Name(), n, nil
}

// place renames tmp to dst, creating dst's directories, and makes the
// result durable.
func (s *Store) place(tmp, dst string) error {
	dir := filepath.Dir(dst)
	if err := s.mkdirs(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return s.syncDirShared(dir)
}

// mkdirs creates the missing levels of dir below the root and makes each
// level's entry in its parent durable. A level found to exist may have
// been made by a concurrent Put (or process) that has not synced it yet,
// so each level's parent is synced once per Store; directories are never
// removed (see Delete), so what was durable stays durable.
func (s *Store) mkdirs(dir string) error {
	if _, ok := s.durable.Load(dir); ok {
		return nil
	}
	rel, err := filepath.Rel(s.root, dir)
	if err != nil || rel == "." {
		return err
	}
	p := s.root
	for _, level := range strings.Split(rel, string(filepath.Separator)) {
		parent := p
		p = filepath.Join(p, level)
		if _, ok := s.durable.Load(p); ok {
			continue
		}
		if err := os.Mkdir(p, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := syncDir(parent); err != nil {
			return err
		}
		s.durable.Store(p, struct{}{})
	}
	return nil
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
