package servers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Credentials of every S3Server: tests only, on loopback.
const (
	s3AccessKey = "bucketmail-test"
	s3SecretKey = "bucketmail-test-secret"
	s3Region    = "us-east-1"
	healthPath  = "/health"
)

// S3Server is a versitygw of one test, serving S3 on loopback from a
// temporary directory (its posix backend: a bucket is a directory, an
// object a file, metadata in extended attributes, or in a sidecar
// directory where the file system has none).
type S3Server struct {
	// Endpoint is "127.0.0.1:PORT", plain HTTP.
	Endpoint string
	// AccessKey and SecretKey are the root account's credentials.
	AccessKey, SecretKey string

	t       testing.TB
	bin     string
	dir     string // holds data/, and meta/ with a sidecar
	sidecar bool

	mu   sync.Mutex
	proc *process
}

// S3 starts a versitygw for t, waits until it answers and stops it when t
// ends. The binary is BUCKETMAIL_VERSITYGW, else <repo>/.testbin/versitygw,
// built from tools/go.mod when missing. It fails t if the server does not
// start.
func S3(t testing.TB) *S3Server {
	t.Helper()
	bin, err := versitygwBinary(t)
	if err != nil {
		t.Fatalf("servers: %v", err)
	}
	s := &S3Server{AccessKey: s3AccessKey, SecretKey: s3SecretKey, t: t, bin: bin, dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(s.dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	for range 3 { // a new port each time: the last one may have been taken
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		s.Endpoint = hostPort(port)
		err = s.start()
		if err != nil && !s.sidecar && strings.Contains(err.Error(), "xattr") {
			s.sidecar = true // e.g. tmpfs without user xattrs
			err = s.start()
		}
		if err == nil {
			return s
		}
	}
	t.Fatalf("servers: starting versitygw: %v", err)
	return nil
}

// start runs versitygw on s.Endpoint and waits until it answers.
func (s *S3Server) start() error {
	args := []string{
		"--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s3Region,
		"--port", s.Endpoint,
		"--health", healthPath,
		"--quiet",
		"posix",
	}
	if s.sidecar {
		meta := filepath.Join(s.dir, "meta")
		if err := os.MkdirAll(meta, 0o700); err != nil {
			return err
		}
		args = append(args, "--sidecar", meta)
	}
	args = append(args, filepath.Join(s.dir, "data"))
	p, err := startProcess(s.bin, args, s.dir, filepath.Join(s.dir, "versitygw.log"))
	if err != nil {
		return err
	}
	health := "http://" + s.Endpoint + healthPath
	if err := p.waitReady(func() error { return httpOK(health) }); err != nil {
		p.kill()
		return fmt.Errorf("versitygw on %s %w", s.Endpoint, err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// httpOK GETs u and expects 200.
func httpOK(u string) error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

var bucketSeq atomic.Int64

// Bucket creates a bucket and returns its name. An empty name picks a new
// unique one ("test-1", "test-2", ...). The bucket goes with the server.
func (s *S3Server) Bucket(t testing.TB, name string) string {
	t.Helper()
	if name == "" {
		name = "test-" + strconv.FormatInt(bucketSeq.Add(1), 10)
	}
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: s3Region}); err != nil {
		t.Fatalf("servers: creating bucket %q on versitygw %s: %v", name, s.Endpoint, err)
	}
	return name
}

// Client returns a minio-go client of the server, for tests that look
// behind a driver's back.
func (s *S3Server) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:       s3Region,
		BucketLookup: minio.BucketLookupPath,
	})
}

// URL is the s3:// URL of bucket on this server, for blob/s3.Open (whose
// Options must carry AccessKey and SecretKey).
func (s *S3Server) URL(bucket string) string {
	q := url.Values{}
	q.Set("endpoint", s.Endpoint)
	q.Set("region", s3Region)
	q.Set("secure", "false")
	q.Set("path_style", "true")
	return "s3://" + bucket + "?" + q.Encode()
}

// PID is the process id of the running server, 0 if it is not running.
func (s *S3Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.exited() {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Kill ends the server abruptly (SIGKILL).
func (s *S3Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	p.kill()
}

// Restart kills the server if it runs and starts it again on the same
// endpoint with the same data; it returns once the server answers.
func (s *S3Server) Restart() {
	s.t.Helper()
	s.Kill()
	if err := s.start(); err != nil {
		s.t.Fatalf("servers: restarting versitygw: %v", err)
	}
}

// Pause freezes the server (SIGSTOP); Resume continues it.
func (s *S3Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a server frozen by Pause (SIGCONT).
func (s *S3Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *S3Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		s.t.Fatalf("servers: versitygw on %s is not running", s.Endpoint)
	}
	if err := p.signal(sig); err != nil {
		s.t.Fatalf("servers: signal %v to versitygw: %v", sig, err)
	}
}
