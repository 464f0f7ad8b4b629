package s3

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// Get implements blob.Store with one ranged GET. Only the request is
// retried; an error while reading the body is the caller's to retry.
func (s *Store) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	defer s.observe("get", time.Now())
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fault.Permanent(fmt.Errorf("blob/s3: get %q: negative offset %d", key, off))
	}
	if length == 0 { // no range can say "nothing": check existence only
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return empty(), nil
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0 && length <= math.MaxInt64-off:
		_ = opts.SetRange(off, off+length-1) // bytes=off-end, end inclusive
	case off > 0:
		_ = opts.SetRange(off, 0) // bytes=off-
	}
	var body io.ReadCloser
	err := s.retry(ctx, func() error {
		var err error
		body, _, _, err = minio.Core{Client: s.client}.GetObject(ctx, s.bucket, s.prefix+key, opts)
		if isCode(err, "InvalidRange") {
			// RFC 9110 section 15.5.17: the object exists but the range
			// starts at or after its end, which we define as empty.
			body, err = empty(), nil
		}
		return classify(err, "get", key)
	})
	if err != nil {
		return nil, err
	}
	if s.metrics != nil {
		body = blob.CountReads(body, s.metrics.BlobReadBytes.WithLabelValues("s3"))
	}
	return body, nil
}

func empty() io.ReadCloser { return io.NopCloser(strings.NewReader("")) }

// Stat implements blob.Store with a HEAD request.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	defer s.observe("stat", time.Now())
	if err := blob.ValidKey(key); err != nil {
		return blob.Info{}, err
	}
	var oi minio.ObjectInfo
	err := s.retry(ctx, func() error {
		var err error
		oi, err = s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
		return classify(err, "stat", key)
	})
	if err != nil {
		return blob.Info{}, err
	}
	return blob.Info{Key: key, Size: oi.Size, Modified: oi.LastModified, Meta: decodeMeta(oi.UserMetadata)}, nil
}
