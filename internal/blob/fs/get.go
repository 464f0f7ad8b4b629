package fs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

var errCorrupt = errors.New("blob/fs: corrupt object file")

// Get implements blob.Store. Reading past the end yields no bytes.
func (s *Store) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fault.Permanent(fmt.Errorf("blob/fs: get %q: negative offset %d", key, off))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, ioErr("get", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, ioErr("get", key, err)
	}
	_, hlen, size, err := readHeader(f, fi.Size(), false)
	if err != nil {
		_ = f.Close()
		return nil, ioErr("get", key, err)
	}
	if off >= size {
		_ = f.Close()
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if length < 0 || length > size-off {
		length = size - off
	}
	if _, err := f.Seek(hlen+off, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, ioErr("get", key, err)
	}
	return blob.CountReads(struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, length), f}, s.reads), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	return s.stat(key, true)
}

// stat opens key's file and reads its header; with meta false the
// metadata is skipped (List does not return it).
func (s *Store) stat(key string, meta bool) (blob.Info, error) {
	f, err := os.Open(s.path(key))
	if err != nil {
		return blob.Info{}, ioErr("stat", key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return blob.Info{}, ioErr("stat", key, err)
	}
	m, _, size, err := readHeader(f, fi.Size(), meta)
	if err != nil {
		return blob.Info{}, ioErr("stat", key, err)
	}
	return blob.Info{Key: key, Size: size, Modified: fi.ModTime(), Meta: m}, nil
}

// readHeader reads the metadata line at the start of f, of fileSize bytes,
// and returns the metadata (if decode), the header length and the content
// size.
func readHeader(f *os.File, fileSize int64, decode bool) (meta map[string]string, hlen, size int64, err error) {
	buf := make([]byte, 512)
	for {
		n, err := f.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			return nil, 0, 0, err
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			hlen = int64(i) + 1
			if decode {
				var h header
				if err := json.Unmarshal(buf[:i], &h); err != nil {
					return nil, 0, 0, fmt.Errorf("%w: %v", errCorrupt, err)
				}
				meta = h.Meta
			}
			return meta, hlen, fileSize - hlen, nil
		}
		if err == io.EOF || len(buf) > maxMetaLen {
			return nil, 0, 0, fmt.Errorf("%w: no header line", errCorrupt)
		}
		buf = make([]byte, 2*len(buf))
	}
}
