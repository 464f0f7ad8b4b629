package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// contentType of every object: they are opaque to S3.
const contentType = "application/octet-stream"

// Put implements blob.Store. It reads up to one part into memory: an
// object that fits (nearly every message) is sent in one PUT, retried if
// need be since the bytes can be sent again; a larger one streams as a
// multipart upload, which minio-go aborts on failure and which we do not
// retry, since r cannot be replayed (the caller retries: the edge answers
// 4xx, the worker requeues). Either way S3 makes the object visible only
// when complete.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) (int64, error) {
	defer s.observe("put", time.Now())
	if err := blob.ValidKey(key); err != nil {
		return 0, err
	}
	headers, err := encodeMeta(meta)
	if err != nil {
		return 0, fmt.Errorf("blob/s3: put %q: %w", key, err)
	}
	opts := minio.PutObjectOptions{
		UserMetadata: headers,
		ContentType:  contentType,
		PartSize:     s.partSize,
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(s.partSize))); err != nil {
		return 0, fmt.Errorf("blob/s3: put %q: reading: %w", key, err)
	}
	if uint64(buf.Len()) == s.partSize {
		var one [1]byte
		n, err := io.ReadFull(r, one[:])
		if n == 1 {
			return s.putStream(ctx, key, io.MultiReader(&buf, bytes.NewReader(one[:]), r), opts)
		}
		if !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("blob/s3: put %q: reading: %w", key, err)
		}
	}
	if err := ctx.Err(); err != nil { // do not store what the caller gave up on
		return 0, fmt.Errorf("blob/s3: put %q: %w", key, err)
	}
	data := buf.Bytes()
	err = s.retry(ctx, func() error {
		_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)), opts)
		return classify(err, "put", key)
	})
	if err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}

// putStream uploads r, of unknown length, in parts.
func (s *Store) putStream(ctx context.Context, key string, r io.Reader, opts minio.PutObjectOptions) (int64, error) {
	info, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, -1, opts)
	if err != nil {
		return 0, classify(err, "put", key)
	}
	return info.Size, nil
}
