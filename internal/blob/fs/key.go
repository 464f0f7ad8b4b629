package fs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bucketmail/bucketmail/internal/fault"
)

// Limits on keys. A level becomes a file or directory name of at most 255
// bytes with the directory suffix.
const (
	maxKeyLen   = 1024
	maxLevelLen = 250
)

var errBadKey = errors.New("blob/fs: invalid key")

// ValidKey reports whether key is a valid object key (see blob.Store): the
// characters [A-Za-z0-9._/-], no empty, "." or ".." level (so no leading,
// trailing or doubled "/"), at most 1024 bytes. The error is permanent.
func ValidKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fault.Permanent(fmt.Errorf("%w: length %d", errBadKey, len(key)))
	}
	for i := 0; i < len(key); i++ {
		if !keyChar(key[i]) {
			return fault.Permanent(fmt.Errorf("%w %q: character %q", errBadKey, key, key[i]))
		}
	}
	if strings.Contains(key, "..") {
		return fault.Permanent(fmt.Errorf("%w %q: contains \"..\"", errBadKey, key))
	}
	for _, level := range strings.Split(key, "/") {
		if level == "" || level == "." || len(level) > maxLevelLen {
			return fault.Permanent(fmt.Errorf("%w %q: bad level %q", errBadKey, key, level))
		}
	}
	return nil
}

func keyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '/' || c == '-'
}

// maxMetaLen bounds the encoded metadata line. S3 allows only 2 KiB of user
// metadata; we are more lenient so that a long recipient list never makes
// the embedded default refuse mail.
const maxMetaLen = 64 << 10

var errBadMeta = errors.New("blob/fs: invalid metadata")

// validMeta checks metadata keys ([a-z0-9-]+) and values (printable ASCII).
func validMeta(meta map[string]string) error {
	for k, v := range meta {
		if k == "" {
			return fault.Permanent(fmt.Errorf("%w: empty key", errBadMeta))
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fault.Permanent(fmt.Errorf("%w: key %q", errBadMeta, k))
			}
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				return fault.Permanent(fmt.Errorf("%w: value of %q", errBadMeta, k))
			}
		}
	}
	return nil
}
