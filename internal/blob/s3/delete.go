package s3

import (
	"context"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// Delete implements blob.Store. S3 answers 204 for a missing key; some
// servers answer NoSuchKey, which is success too.
func (s *Store) Delete(ctx context.Context, key string) error {
	defer s.observe("delete", time.Now())
	if err := blob.ValidKey(key); err != nil {
		return err
	}
	return s.retry(ctx, func() error {
		err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
		if isCode(err, "NoSuchKey") {
			return nil
		}
		return classify(err, "delete", key)
	})
}
