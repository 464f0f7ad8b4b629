package s3

import (
	"context"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// maxKeys is S3's largest page.
const maxKeys = 1000

// List implements blob.Store with ListObjectsV2 (start-after, recursive),
// page by page until limit (limit <= 0: no limit). A failed page restarts
// the listing after the last key received.
func (s *Store) List(ctx context.Context, prefix, startAfter string, limit int) ([]blob.Info, error) {
	defer s.observe("list", time.Now())
	var out []blob.Info
	err := s.retry(ctx, func() error {
		after := startAfter
		if len(out) > 0 {
			after = out[len(out)-1].Key
		}
		var err error
		out, err = s.list(ctx, prefix, after, limit, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// list appends to out the objects after startAfter, up to limit in all.
func (s *Store) list(ctx context.Context, prefix, startAfter string, limit int, out []blob.Info) ([]blob.Info, error) {
	ctx, cancel := context.WithCancel(ctx) // stops minio-go's lister when we have enough
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true, MaxKeys: maxKeys}
	if limit > 0 {
		opts.MaxKeys = min(limit-len(out), maxKeys)
	}
	if startAfter != "" {
		opts.StartAfter = s.prefix + startAfter
	}
	for oi := range s.client.ListObjects(ctx, s.bucket, opts) {
		if oi.Err != nil {
			return out, classify(oi.Err, "list", prefix)
		}
		key, ok := strings.CutPrefix(oi.Key, s.prefix)
		if !ok || strings.HasSuffix(key, "/") { // a "directory" marker is not one of ours
			continue
		}
		out = append(out, blob.Info{Key: key, Size: oi.Size, Modified: oi.LastModified})
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}
