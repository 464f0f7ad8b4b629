package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// fakeS3 answers HEAD of the bucket (for Open) with 200 and every other
// request with status and an S3 error code, the first fail requests only
// if fail > 0.
type fakeS3 struct {
	status   int
	code     string
	fail     int64
	requests atomic.Int64
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead && strings.Trim(r.URL.Path, "/") == "bkt" {
		return
	}
	n := f.requests.Add(1)
	if f.fail > 0 && n > f.fail {
		w.Header().Set("Content-Length", "2")
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		io.WriteString(w, "ok")
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(f.status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>fake</Message><Resource>%s</Resource><RequestId>1</RequestId></Error>`,
		f.code, r.URL.Path)
}

func openFake(t *testing.T, f *fakeS3) *s3.Store {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	st, err := s3.Open(context.Background(), "s3://bkt?secure=false&endpoint="+u.Host,
		s3.Options{AccessKey: "a", SecretKey: "s", Attempts: 2})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

// TestClassify: how S3 answers to Get turn into temporary or permanent
// errors, and which are retried.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status    int
		code      string
		permanent bool
		notFound  bool
	}{
		{404, "NoSuchKey", true, true},
		{400, "InvalidArgument", true, false},
		{409, "ObjectParentIsFile", true, false}, // versitygw posix: "a" is a file, "a/b" cannot be
		{400, "XMinioParentIsObject", true, false},
		{400, "MetadataTooLarge", true, false},
		{503, "SlowDown", false, false},
		{500, "InternalError", false, false},
		{502, "BadGateway", false, false},
		{429, "TooManyRequests", false, false},
		{408, "RequestTimeout", false, false},
		// The account or the bucket: an operator fixes it, mail waits.
		{404, "NoSuchBucket", false, false},
		{403, "AccessDenied", false, false},
		{403, "InvalidAccessKeyId", false, false},
		{403, "SignatureDoesNotMatch", false, false},
		{403, "RequestTimeTooSkewed", false, false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel() // the retried cases wait for backoffs
			f := &fakeS3{status: tc.status, code: tc.code}
			st := openFake(t, f)
			rc, err := st.Get(context.Background(), "msg/x", 0, -1)
			if err == nil {
				rc.Close()
				t.Fatal("Get succeeded")
			}
			if fault.IsPermanent(err) != tc.permanent {
				t.Errorf("Get: %v: permanent = %v, want %v", err, !tc.permanent, tc.permanent)
			}
			if errors.Is(err, blob.ErrNotFound) != tc.notFound {
				t.Errorf("Get: %v: not found = %v, want %v", err, !tc.notFound, tc.notFound)
			}
			n := f.requests.Load()
			if tc.permanent && n != 1 {
				t.Errorf("permanent error sent %d requests, want 1", n)
			}
			if !tc.permanent && n < 2 {
				t.Errorf("temporary error sent %d requests, want retries", n)
			}
		})
	}
}

// TestRetryRecovers: a server that throttles for a while is waited out.
func TestRetryRecovers(t *testing.T) {
	t.Parallel()
	f := &fakeS3{status: 503, code: "SlowDown", fail: 3}
	st := openFake(t, f)
	rc, err := st.Get(context.Background(), "msg/x", 0, -1)
	if err != nil {
		t.Fatalf("Get after %d SlowDowns: %v", f.fail, err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "ok" {
		t.Fatalf("Get = %q", b)
	}
}

// TestServerDown: a dead server is a temporary failure, and the store
// works again once the server is back.
func TestServerDown(t *testing.T) {
	t.Parallel() // mostly waits for backoffs
	srv := testenv.S3(t)
	st := open(t, srv, s3.Options{Attempts: 2})
	ctx := context.Background()
	if _, err := st.Put(ctx, "msg/a", strings.NewReader("a"), nil); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	_, err := st.Stat(ctx, "msg/a")
	if err == nil || fault.IsPermanent(err) || errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat with the server down = %v, want a temporary error", err)
	}
	if _, err := st.Put(ctx, "msg/b", strings.NewReader("b"), nil); err == nil || fault.IsPermanent(err) {
		t.Fatalf("Put with the server down = %v, want a temporary error", err)
	}
	if _, err := st.List(ctx, "", "", 10); err == nil || fault.IsPermanent(err) {
		t.Fatalf("List with the server down = %v, want a temporary error", err)
	}
	srv.Restart()
	if info, err := st.Stat(ctx, "msg/a"); err != nil || info.Size != 1 {
		t.Fatalf("Stat after restart = %+v, %v", info, err)
	}
}

// TestMissingBucket: Open refuses a missing bucket unless asked to create
// it; a bucket removed later is a temporary failure (not a bounce).
func TestMissingBucket(t *testing.T) {
	srv := testenv.S3(t)
	ctx := context.Background()
	opt := s3.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	if _, err := s3.Open(ctx, srv.URL("absent"), opt); err == nil {
		t.Fatal("Open of a missing bucket succeeded")
	}
	opt.CreateBucket = true
	st, err := s3.Open(ctx, srv.URL("created"), opt)
	if err != nil {
		t.Fatalf("Open with CreateBucket: %v", err)
	}
	if _, err := s3.Open(ctx, srv.URL("created"), opt); err != nil {
		t.Fatalf("Open with CreateBucket of an existing bucket: %v", err)
	}
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, "created"); err != nil {
		t.Fatal(err)
	}
	rc, err := st.Get(ctx, "msg/a", 0, -1)
	if err == nil {
		rc.Close()
	}
	if err == nil || fault.IsPermanent(err) {
		t.Fatalf("Get in a removed bucket = %v, want a temporary error", err)
	}
}
