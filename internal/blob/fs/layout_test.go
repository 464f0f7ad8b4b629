package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

func TestOpenFileURL(t *testing.T) {
	dir := t.TempDir()
	s, err := Open("file://" + dir)
	if err != nil || s.Dir() != dir {
		t.Fatalf("Open(file://%s) = %v, %v", dir, s, err)
	}
	if _, err := Open(""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}

// TestCrashLeftovers simulates Puts that died: their temporary files are
// never listed, and Open removes those older than an hour.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, tmpDir, "put-stale")
	fresh := filepath.Join(dir, tmpDir, "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("{}\npartial"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if infos, err := s.List(context.Background(), "", "", 10); err != nil || len(infos) != 0 {
		t.Fatalf("List shows leftovers: %+v, %v", infos, err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file survived Open: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temporary file (a Put maybe in progress) was removed: %v", err)
	}
}

func TestLayout(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "msg/01ABC", strings.NewReader("body"), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(), "msg~", "01ABC"))
	if err != nil || string(b) != "{\"meta\":{\"k\":\"v\"}}\nbody" {
		t.Fatalf("object file = %q, %v", b, err)
	}
	if err := s.Delete(ctx, "msg/01ABC"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "msg~", "01ABC")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("deleted object file still there: %v", err)
	}
}

func TestCorruptObjectIsPermanent(t *testing.T) {
	s := open(t)
	if err := os.WriteFile(filepath.Join(s.Dir(), "bad"), []byte("no header line"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := s.Stat(context.Background(), "bad")
	if err == nil || errors.Is(err, blob.ErrNotFound) || !fault.IsPermanent(err) {
		t.Fatalf("Stat of a corrupt file = %v; want a permanent error other than not found", err)
	}
}

func TestGetNegativeOffset(t *testing.T) {
	s := open(t)
	if _, err := s.Put(context.Background(), "k", strings.NewReader("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "k", -1, 1); err == nil || !fault.IsPermanent(err) {
		t.Fatalf("Get at offset -1 = %v, want a permanent error", err)
	}
}

// BenchmarkListPage lists one page from the middle of a large directory of
// messages, as the reconciler does.
func BenchmarkListPage(b *testing.B) {
	s := open(b)
	const n = 20000
	dir := filepath.Join(s.Dir(), "msg~")
	if err := os.Mkdir(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	for i := range n { // written directly: Put's fsyncs would dominate setup
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%08d", i)), []byte("{}\nx"), 0o640); err != nil {
			b.Fatal(err)
		}
	}
	after := fmt.Sprintf("msg/%08d", n/2)
	for b.Loop() {
		infos, err := s.List(context.Background(), "msg/", after, 100)
		if err != nil || len(infos) != 100 {
			b.Fatalf("List = %d, %v", len(infos), err)
		}
	}
}
