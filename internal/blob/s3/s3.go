// Package s3 is the blob store of the cloud deployment: objects in an
// S3-compatible bucket (AWS S3, Linode Object Storage, MinIO, Ceph RGW,
// SeaweedFS, versitygw), through minio-go.
//
// URL: s3://BUCKET[/PREFIX]?endpoint=HOST[:PORT]&region=R&secure=true|false&path_style=true|false
// (see parseURL for the defaults). A PREFIX is prepended to every key, so
// several deployments can share a bucket.
//
// Metadata travels as x-amz-meta-* headers. HTTP would trim leading and
// trailing blanks and drop empty values, and minio-go decodes values that
// look like RFC 2047 words, so such values are stored base64-encoded behind
// a marker (see meta.go). S3 limits user metadata to 2 KiB; Put refuses
// more, permanently, whatever the server would accept, so that a message
// that works on MinIO also works on AWS.
package s3

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
)

// Environment variables holding the credentials when Options has none.
const (
	EnvAccessKey = "BUCKETMAIL_S3_ACCESS_KEY"
	EnvSecretKey = "BUCKETMAIL_S3_SECRET_KEY"
)

const (
	// DefaultPartSize is the Put buffer: smaller objects (nearly all mail)
	// go up in one PUT, larger ones as a multipart upload of such parts.
	DefaultPartSize = 16 << 20
	// minPartSize is S3's smallest part but the last.
	minPartSize = 5 << 20
	// defaultAttempts bounds our retries of an idempotent call.
	defaultAttempts = 3
	// clientRetries bounds minio-go's own retries of each HTTP request
	// (its default, 10, holds a caller for many seconds when the server is
	// down; our retries and the callers' queue retries do the rest).
	clientRetries = 3
)

// Options configures Open. The zero value takes credentials from the
// environment and expects the bucket to exist.
type Options struct {
	// AccessKey and SecretKey are explicit credentials. When empty,
	// BUCKETMAIL_S3_ACCESS_KEY/BUCKETMAIL_S3_SECRET_KEY are used, else the
	// AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials,
	// then IAM (EC2/ECS/web identity).
	AccessKey, SecretKey string
	// CreateBucket creates the bucket when it does not exist.
	CreateBucket bool
	// PartSize is the multipart threshold and part size; 0 means
	// DefaultPartSize, and less than 5 MiB (S3's minimum) means 5 MiB.
	// Every Put in progress holds up to one part in memory.
	PartSize uint64
	// Attempts bounds the tries of Get, Stat, Delete, List and of Puts that
	// fit in one part; 0 means 3.
	Attempts int
	// Metrics, when set, receives the latency of every call.
	Metrics *metrics.Metrics
}

// Store is a blob.Store in an S3 bucket. It is safe for concurrent use.
type Store struct {
	client   *minio.Client
	bucket   string
	prefix   string
	partSize uint64
	attempts int
	metrics  *metrics.Metrics
}

var _ blob.Store = (*Store)(nil)

// Open connects to the bucket of rawURL and checks that it exists (or
// creates it, with opt.CreateBucket).
func Open(ctx context.Context, rawURL string, opt Options) (*Store, error) {
	cfg, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := s3utils.CheckValidBucketName(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("%w %q: bucket: %v", errURL, rawURL, err)
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("blob/s3: %v", err)
	}
	// Every request goes to the one endpoint: keep as many idle connections
	// to it as the roles run requests at once (SMTP sessions, delivery
	// loops, POP3 read-ahead), instead of dialing (and TLS handshaking)
	// anew whenever more than 16 were busy.
	tr.MaxIdleConnsPerHost = tr.MaxIdleConns
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        chooseCredentials(opt),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   clientRetries,
		Transport:    tr,
	})
	if err != nil {
		return nil, fmt.Errorf("blob/s3: %v", err)
	}
	s := &Store{
		client:   client,
		bucket:   cfg.Bucket,
		prefix:   cfg.Prefix,
		partSize: max(opt.PartSize, minPartSize),
		attempts: opt.Attempts,
		metrics:  opt.Metrics,
	}
	if opt.PartSize == 0 {
		s.partSize = DefaultPartSize
	}
	if s.attempts <= 0 {
		s.attempts = defaultAttempts
	}
	if err := s.checkBucket(ctx, cfg.Region, opt.CreateBucket); err != nil {
		return nil, err
	}
	return s, nil
}

// chooseCredentials applies the order documented on Options.
func chooseCredentials(opt Options) *credentials.Credentials {
	if opt.AccessKey != "" || opt.SecretKey != "" {
		return credentials.NewStaticV4(opt.AccessKey, opt.SecretKey, "")
	}
	if ak, sk := os.Getenv(EnvAccessKey), os.Getenv(EnvSecretKey); ak != "" || sk != "" {
		return credentials.NewStaticV4(ak, sk, "")
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{},
	})
}

// checkBucket makes sure the bucket exists.
func (s *Store) checkBucket(ctx context.Context, region string, create bool) error {
	var exists bool
	err := s.retry(ctx, func() error {
		var err error
		exists, err = s.client.BucketExists(ctx, s.bucket)
		return classify(err, "check bucket", s.bucket)
	})
	if err != nil {
		return err
	}
	if exists {
		return nil
	}
	if !create {
		return fmt.Errorf("blob/s3: bucket %q does not exist (create it, or start with --create-bucket)", s.bucket)
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil {
		// Another process may have won the race (BucketAlreadyOwnedByYou,
		// or BucketAlreadyExists from some servers): fine if we can see it.
		if ok, _ := s.client.BucketExists(ctx, s.bucket); ok {
			return nil
		}
	}
	return classify(err, "create bucket", s.bucket)
}

// observe records the latency of op since start.
func (s *Store) observe(op string, start time.Time) {
	if s.metrics != nil {
		s.metrics.StorageLatency.WithLabelValues("s3", op).Observe(time.Since(start).Seconds())
	}
}

// String names the store for logs.
func (s *Store) String() string {
	return "s3://" + s.bucket + "/" + s.prefix + " at " + s.client.EndpointURL().Host
}
