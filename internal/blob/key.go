package blob

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bucketmail/bucketmail/internal/fault"
)

// Limits on keys. A level becomes a file or directory name in blob/fs, whose
// directory suffix needs a few of the 255 bytes a file name may have.
const (
	MaxKeyLen   = 1024
	maxLevelLen = 250
)

// ErrBadKey and ErrBadMeta are wrapped (and marked permanent) by ValidKey
// and ValidMeta.
var (
	ErrBadKey  = errors.New("blob: invalid key")
	ErrBadMeta = errors.New("blob: invalid metadata")
)

// ValidKey reports whether key is a valid object key (see Store): the
// characters [A-Za-z0-9._/-], no empty, "." or ".." level (so no leading,
// trailing or doubled "/"), at most MaxKeyLen bytes. The error is
// permanent. It accepts exactly the keys blob/fs.ValidKey accepts, so that
// every driver refuses the same keys.
func ValidKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fault.Permanent(fmt.Errorf("%w: length %d", ErrBadKey, len(key)))
	}
	for i := 0; i < len(key); i++ {
		if !keyChar(key[i]) {
			return fault.Permanent(fmt.Errorf("%w %q: character %q", ErrBadKey, key, key[i]))
		}
	}
	if strings.Contains(key, "..") {
		return fault.Permanent(fmt.Errorf("%w %q: contains \"..\"", ErrBadKey, key))
	}
	for _, level := range strings.Split(key, "/") {
		if level == "" || level == "." || len(level) > maxLevelLen {
			return fault.Permanent(fmt.Errorf("%w %q: bad level %q", ErrBadKey, key, level))
		}
	}
	return nil
}

func keyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '/' || c == '-'
}

// ValidMeta checks metadata (see Store): keys [a-z0-9-]+, values printable
// ASCII. The error is permanent. Size limits are the driver's.
func ValidMeta(meta map[string]string) error {
	for k, v := range meta {
		if k == "" {
			return fault.Permanent(fmt.Errorf("%w: empty key", ErrBadMeta))
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fault.Permanent(fmt.Errorf("%w: key %q", ErrBadMeta, k))
			}
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				return fault.Permanent(fmt.Errorf("%w: value of %q", ErrBadMeta, k))
			}
		}
	}
	return nil
}
