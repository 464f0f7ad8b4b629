package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
)

// Delete implements blob.Store. Directories left empty stay: removing them
// would race with Puts into them (see mkdirs), and List skips them cheaply.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.path(key)
	err := os.Remove(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return ioErr("delete", key, err)
	}
	dir := filepath.Dir(p)
	// The removal must be durable: a resurrected object could be taken for
	// an undelivered message.
	if err := s.syncDirShared(dir); err != nil {
		return ioErr("delete", key, err)
	}
	return nil
}
