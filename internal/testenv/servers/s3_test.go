package servers

import (
	"bytes"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestS3(t *testing.T) {
	s := S3(t)
	ctx := context.Background()
	b := s.Bucket(t, "")
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, b, "a/b", strings.NewReader("hello"), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	obj, err := c.GetObject(ctx, b, "a/b", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, []byte("hello")) {
		t.Fatalf("GetObject = %q, %v", got, err)
	}
	if b2 := s.Bucket(t, ""); b2 == b {
		t.Fatalf("Bucket gave %q twice", b)
	}
	if u := s.URL(b); !strings.HasPrefix(u, "s3://"+b+"?") || !strings.Contains(u, "path_style=true") || !strings.Contains(u, "secure=false") {
		t.Errorf("URL = %q", u)
	}
}

// TestS3KillRestart: objects survive a crash; the server answers again on
// the same endpoint.
func TestS3KillRestart(t *testing.T) {
	s := S3(t)
	ctx := context.Background()
	b := s.Bucket(t, "keep")
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, b, "k", strings.NewReader("v"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := httpOK("http://" + s.Endpoint + healthPath); err == nil {
		t.Fatal("answering after Kill")
	}
	s.Restart()
	if _, err := c.StatObject(ctx, b, "k", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
}

func TestS3Cleanup(t *testing.T) {
	var pid int
	t.Run("inner", func(t *testing.T) {
		pid = S3(t).PID()
	})
	if pid == 0 {
		t.Fatal("no PID")
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("process %d still exists after cleanup (kill 0: %v)", pid, err)
	}
}
