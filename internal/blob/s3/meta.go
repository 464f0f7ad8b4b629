package s3

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

const (
	// metaHeader prefixes user metadata. Giving minio-go the full header
	// name keeps keys such as "expires" or "content-type" from being taken
	// for standard headers.
	metaHeader = "x-amz-meta-"
	// encodedMark starts a value stored as base64 (see encodeValue).
	encodedMark = "b64:"
	// maxMetaBytes is S3's limit on user metadata: the sum of the lengths
	// of keys and values.
	maxMetaBytes = 2 << 10
)

// encodeMeta validates meta and turns it into request headers.
func encodeMeta(meta map[string]string) (map[string]string, error) {
	if err := blob.ValidMeta(meta); err != nil {
		return nil, err
	}
	h := make(map[string]string, len(meta))
	size := 0
	for k, v := range meta {
		v = encodeValue(v)
		size += len(k) + len(v)
		h[metaHeader+k] = v
	}
	if size > maxMetaBytes {
		return nil, fault.Permanent(fmt.Errorf("%w: %d bytes, S3 allows %d", blob.ErrBadMeta, size, maxMetaBytes))
	}
	return h, nil
}

// encodeValue keeps v as it is unless HTTP or minio-go would alter it:
// empty, leading or trailing blanks (trimmed by HTTP), "=?" (decoded as
// RFC 2047 by minio-go), or our own mark.
func encodeValue(v string) string {
	if v == "" || v[0] == ' ' || v[len(v)-1] == ' ' ||
		strings.HasPrefix(v, "=?") || strings.HasPrefix(v, encodedMark) {
		return encodedMark + base64.StdEncoding.EncodeToString([]byte(v))
	}
	return v
}

// decodeMeta turns minio-go's UserMetadata (canonical header case, prefix
// removed) back into our metadata.
func decodeMeta(user map[string]string) map[string]string {
	if len(user) == 0 {
		return nil
	}
	meta := make(map[string]string, len(user))
	for k, v := range user {
		meta[strings.ToLower(k)] = decodeValue(v)
	}
	return meta
}

// decodeValue undoes encodeValue. A value with the mark that is not valid
// base64 was written by someone else and is returned unchanged.
func decodeValue(v string) string {
	rest, ok := strings.CutPrefix(v, encodedMark)
	if !ok {
		return v
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return v
	}
	return string(b)
}

// MetaLimit implements blob.MetaLimiter.
func (s *Store) MetaLimit() int { return maxMetaBytes }
