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
// result durable. A concurrent Delete may remove a directory just created
// (it prunes empty ones), so a vanished directory is retried.
func (s *Store) place(tmp, dst string) error {
	dir := filepath.Dir(dst)
	var err error
	for range 5 {
		var created []string
		created, err = s.mkdirs(dir)
		if err != nil {
			return err
		}
		err = os.Rename(tmp, dst)
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(tmp); serr != nil {
				return err // the temporary file itself is gone
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := syncDir(dir); err != nil {
			return err
		}
		// A new directory's own entry lives in its parent.
		for _, d := range created {
			if err := syncDir(filepath.Dir(d)); err != nil {
				return err
			}
		}
		return nil
	}
	return err
}

// mkdirs creates the missing levels of dir below the root and returns
// those it created, outermost first.
func (s *Store) mkdirs(dir string) ([]string, error) {
	rel, err := filepath.Rel(s.root, dir)
	if err != nil || rel == "." {
		return nil, err
	}
	var created []string
	p := s.root
	for _, level := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, level)
		err := os.Mkdir(p, 0o750)
		if err == nil {
			created = append(created, p)
		} else if !errors.Is(err, os.ErrExist) {
			return created, err
		}
	}
	return created, nil
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
