package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func TestOpenStoreDispatch(t *testing.T) {
	ctx := context.Background()
	srv := testenv.Redis(t)
	for _, tc := range []struct {
		url  string
		want func(store.Store) bool
	}{
		{"sqlite://" + filepath.Join(t.TempDir(), "sub", "x.db"), func(s store.Store) bool { _, ok := s.(*sqlite.DB); return ok }},
		{srv.URL(), func(s store.Store) bool { _, ok := s.(*redis.DB); return ok }},
		{"redis://" + srv.Addr + "/3?dial_timeout=2s", func(s store.Store) bool { _, ok := s.(*redis.DB); return ok }},
	} {
		st, err := openStore(ctx, tc.url)
		if err != nil {
			t.Errorf("openStore(%q): %v", tc.url, err)
			continue
		}
		if !tc.want(st) {
			t.Errorf("openStore(%q) = %T", tc.url, st)
		}
		if err := st.Close(); err != nil {
			t.Errorf("close %q: %v", tc.url, err)
		}
	}
}

func TestOpenStoreErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		url, want string
	}{
		{"mysql://db/mail", `store URL "mysql://db/mail": unsupported scheme "mysql" (supported: sqlite://, redis://, rediss://)`},
		{"bucketmail.db", `store URL "bucketmail.db": want SCHEME://... (supported: sqlite://, redis://, rediss://)`},
		{"sqlite://", `store URL "sqlite://": missing path`},
		{"redis://127.0.0.1:6379?cluster=maybe", `cluster="maybe"`},
	} {
		st, err := openStore(ctx, tc.url)
		if err == nil {
			st.Close()
			t.Errorf("openStore(%q) succeeded", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("openStore(%q) = %q, want it to contain %q", tc.url, err, tc.want)
		}
	}
}

// TestOpenStoreRedactsPassword: the URL in an error is fit for a log line.
func TestOpenStoreRedactsPassword(t *testing.T) {
	// Nothing listens on port 1 of loopback: refused at once.
	_, err := openStore(context.Background(), "redis://mail:s3cret@127.0.0.1:1/0?max_retries=-1")
	if err == nil {
		t.Fatal("openStore of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "mail:xxxxx@127.0.0.1:1") {
		t.Errorf("error %q: want the password redacted", err)
	}
	if got := redact("rediss://u:p@h:1/0"); got != "rediss://u:xxxxx@h:1/0" {
		t.Errorf("redact = %q", got)
	}
}

func TestOpenBlobsDispatch(t *testing.T) {
	ctx := context.Background()
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "")
	t.Setenv(s3.EnvAccessKey, srv.AccessKey)
	t.Setenv(s3.EnvSecretKey, srv.SecretKey)

	b, err := openBlobs(ctx, "file://"+filepath.Join(t.TempDir(), "blobs"), blobOptions{})
	if _, ok := b.(*fs.Store); err != nil || !ok {
		t.Errorf("file://: %T, %v", b, err)
	}
	b, err = openBlobs(ctx, srv.URL(bucket), blobOptions{})
	if _, ok := b.(*s3.Store); err != nil || !ok {
		t.Fatalf("%s: %T, %v", srv.URL(bucket), b, err)
	}
	if _, err := b.Put(ctx, "msg/x", strings.NewReader("hello"), nil); err != nil {
		t.Errorf("Put through the opened store: %v", err)
	}

	// A missing bucket is an error that names the flag, unless the flag is
	// given.
	missing := strings.Replace(srv.URL(bucket), bucket, "not-yet-made", 1)
	if _, err := openBlobs(ctx, missing, blobOptions{}); err == nil || !strings.Contains(err.Error(), "--create-bucket") {
		t.Errorf("missing bucket without --create-bucket: %v", err)
	}
	b, err = openBlobs(ctx, missing, blobOptions{createBucket: true})
	if err != nil {
		t.Fatalf("--create-bucket: %v", err)
	}
	if _, err := b.List(ctx, "", "", 1); err != nil {
		t.Errorf("List in the created bucket: %v", err)
	}
}

func TestOpenBlobsErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		url, want string
	}{
		{"gs://bucket", `blob URL "gs://bucket": unsupported scheme "gs" (supported: file://, s3://)`},
		{"/var/mail", `blob URL "/var/mail": want SCHEME://... (supported: file://, s3://)`},
		{"file://", `blob URL "file://": missing directory`},
		{"s3://b?endpoint=127.0.0.1:1&colour=red", `unknown parameter "colour"`},
	} {
		if _, err := openBlobs(ctx, tc.url, blobOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("openBlobs(%q) = %v, want it to contain %q", tc.url, err, tc.want)
		}
	}
}

// TestCreateBucketFlagFromEnv: BUCKETMAIL_CREATE_BUCKET sets --create-bucket,
// and no flag carries an S3 secret.
func TestCreateBucketFlagFromEnv(t *testing.T) {
	a := &app{lookupEnv: func(k string) (string, bool) { return "true", k == "BUCKETMAIL_CREATE_BUCKET" }}
	var cfg config
	fs := newFlagSet("worker")
	cfg.register(fs, roles{worker: true})
	if _, err := a.parse(fs, "", nil); err != nil {
		t.Fatal(err)
	}
	if !cfg.CreateBucket {
		t.Error("BUCKETMAIL_CREATE_BUCKET=true did not set CreateBucket")
	}
	for _, name := range []string{"s3-access-key", "s3-secret-key"} {
		if fs.Lookup(name) != nil {
			t.Errorf("flag --%s exists: secrets must come from the environment only", name)
		}
	}
}
