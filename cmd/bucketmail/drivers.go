package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
)

// The URL schemes each driver kind accepts, as the error of an unknown
// scheme lists them.
const (
	storeSchemes = "sqlite://, redis://, rediss://"
	blobSchemes  = "file://, s3://"
)

// openTimeout bounds connecting to a remote store or bucket at start-up, so
// a wrong address fails the command instead of hanging it.
const openTimeout = 30 * time.Second

// openStore opens the index/queue/directory named by a store URL:
// sqlite://PATH (the embedded driver; PATH may be relative), or
// redis://... and rediss://... (see redis.ParseURL for Cluster and
// Sentinel).
func openStore(ctx context.Context, rawURL string) (store.Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("store URL %q: want SCHEME://... (supported: %s)", redact(rawURL), storeSchemes)
	}
	switch scheme {
	case "sqlite":
		if rest == "" {
			return nil, fmt.Errorf("store URL %q: missing path", rawURL)
		}
		if err := os.MkdirAll(filepath.Dir(rest), 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		db, err := sqlite.Open(rest)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", rawURL, err)
		}
		return db, nil
	case "redis", "rediss":
		db, err := redis.Open(ctx, rawURL)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", redact(rawURL), err)
		}
		return db, nil
	default:
		return nil, fmt.Errorf("store URL %q: unsupported scheme %q (supported: %s)", redact(rawURL), scheme, storeSchemes)
	}
}

// blobOptions are the settings of a blob store besides its URL.
type blobOptions struct {
	createBucket bool             // s3: create the bucket if it is missing
	metrics      *metrics.Metrics // nil: not measured
}

// openBlobs opens the object store named by a blob URL: file://DIR (the
// embedded driver; DIR may be relative) or
// s3://BUCKET[/PREFIX]?endpoint=HOST[:PORT]&... Credentials for S3 come only
// from the environment (BUCKETMAIL_S3_ACCESS_KEY/BUCKETMAIL_S3_SECRET_KEY,
// else the AWS chain), never from a flag, so they do not show in ps.
func openBlobs(ctx context.Context, rawURL string, opt blobOptions) (blob.Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("blob URL %q: want SCHEME://... (supported: %s)", redact(rawURL), blobSchemes)
	}
	switch scheme {
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("blob URL %q: missing directory", rawURL)
		}
		if err := os.MkdirAll(rest, 0o750); err != nil {
			return nil, fmt.Errorf("blobs: %w", err)
		}
		b, err := fs.Open(rest)
		if err != nil {
			return nil, fmt.Errorf("blobs %s: %w", rawURL, err)
		}
		if opt.metrics != nil {
			b.CountReads(opt.metrics.BlobReadBytes.WithLabelValues("fs"))
		}
		return b, nil
	case "s3":
		b, err := s3.Open(ctx, rawURL, s3.Options{CreateBucket: opt.createBucket, Metrics: opt.metrics})
		if err != nil {
			return nil, fmt.Errorf("blobs %s: %w", redact(rawURL), err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("blob URL %q: unsupported scheme %q (supported: %s)", redact(rawURL), scheme, blobSchemes)
	}
}

// redact hides the password of a URL (redis://user:secret@host), for
// errors and logs.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

// openStorage opens both drivers of s; the caller closes the store.
func openStorage(s storageConfig) (store.Store, blob.Store, error) {
	return openStorageContext(context.Background(), s, nil)
}

// openStorageContext is openStorage with the start-up context and the
// metrics the blob store reports to (nil: none).
func openStorageContext(ctx context.Context, s storageConfig, m *metrics.Metrics) (store.Store, blob.Store, error) {
	s.resolve()
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	st, err := openStore(ctx, s.Store)
	if err != nil {
		return nil, nil, err
	}
	if r, ok := st.(*redis.DB); ok && m != nil {
		r.CountCommands(m.RedisCommands)
	}
	bl, err := openBlobs(ctx, s.Blobs, blobOptions{createBucket: s.CreateBucket, metrics: m})
	if err != nil {
		return nil, nil, errors.Join(err, st.Close())
	}
	return st, bl, nil
}
