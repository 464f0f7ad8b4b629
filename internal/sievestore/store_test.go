package sievestore

import (
	"errors"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/sieve"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func newScripts(t *testing.T) *Scripts {
	t.Helper()
	st := testenv.Embedded(t)
	return &Scripts{Blobs: st.Blobs, Store: st.Store}
}

// TestScriptsLifecycle puts, lists, activates, renames and deletes
// scripts, checking the store's copy of the active one at each step.
func TestScriptsLifecycle(t *testing.T) {
	s, ctx := newScripts(t), t.Context()
	const uid = "u1"
	if err := s.Put(ctx, uid, "vacation", `require "vacation"; vacation "away";`); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, uid, "main", `keep;`); err != nil {
		t.Fatal(err)
	}
	if src, _ := s.Active(ctx, uid); src != "" {
		t.Fatalf("active before SETACTIVE: %q", src)
	}
	if err := s.SetActive(ctx, uid, "main"); err != nil {
		t.Fatal(err)
	}
	if src, _ := s.Active(ctx, uid); src != "keep;" {
		t.Fatalf("active = %q", src)
	}
	if err := s.Put(ctx, uid, "main", `discard;`); err != nil {
		t.Fatal(err)
	}
	if src, _ := s.Active(ctx, uid); src != "discard;" {
		t.Fatalf("replacing the active script left %q", src)
	}
	list, err := s.List(ctx, uid)
	if err != nil || len(list) != 2 || list[0] != (Entry{"main", true}) || list[1] != (Entry{"vacation", false}) {
		t.Fatalf("List = %v, %v", list, err)
	}
	if err := s.Delete(ctx, uid, "main"); !errors.Is(err, ErrActive) {
		t.Fatalf("deleting the active script: %v", err)
	}
	if err := s.Rename(ctx, uid, "main", "renamed"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(ctx, uid); len(list) != 2 || list[0] != (Entry{"renamed", true}) {
		t.Fatalf("after rename: %v", list)
	}
	if err := s.SetActive(ctx, uid, ""); err != nil {
		t.Fatal(err)
	}
	if src, _ := s.Active(ctx, uid); src != "" {
		t.Fatalf("still active: %q", src)
	}
	if err := s.Delete(ctx, uid, "renamed"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, uid, "renamed"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if other, _ := s.List(ctx, "u2"); len(other) != 0 {
		t.Fatalf("another user sees %v", other)
	}
}

// TestPutRefusesBadScripts checks that a script that does not compile is
// refused with its position, and bad names too.
func TestPutRefusesBadScripts(t *testing.T) {
	s, ctx := newScripts(t), t.Context()
	err := s.Put(ctx, "u1", "bad", "keep;\nfrob;")
	var se *sieve.Error
	if !errors.As(err, &se) || se.Pos.Line != 2 {
		t.Fatalf("got %v, want a sieve error on line 2", err)
	}
	for _, name := range []string{"", "a\nb", strings.Repeat("x", MaxName+1)} {
		if err := s.Put(ctx, "u1", name, "keep;"); !errors.Is(err, ErrInvalid) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if err := s.SetActive(ctx, "u1", "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("activating a missing script: %v", err)
	}
}

// TestRestore rebuilds the store's copy from the bucket.
func TestRestore(t *testing.T) {
	s, ctx := newScripts(t), t.Context()
	if err := s.Put(ctx, "u1", "a b/c", "discard;"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetActive(ctx, "u1", "a b/c"); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.DeleteCheckpoint(ctx, activeCheckpoint("u1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if src, _ := s.Active(ctx, "u1"); src != "discard;" {
		t.Fatalf("restored %q", src)
	}
}

// TestRestoreAll rebuilds the store's copies of every user from the
// bucket.
func TestRestoreAll(t *testing.T) {
	s, ctx := newScripts(t), t.Context()
	for _, uid := range []string{"u1", "u2", "u3"} {
		if err := s.Put(ctx, uid, "main", "discard; # "+uid); err != nil {
			t.Fatal(err)
		}
		if uid == "u3" {
			continue // stored, not active
		}
		if err := s.SetActive(ctx, uid, "main"); err != nil {
			t.Fatal(err)
		}
		if err := s.Store.DeleteCheckpoint(ctx, activeCheckpoint(uid)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.RestoreAll(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RestoreAll = %d, %v; want 2", n, err)
	}
	for _, uid := range []string{"u1", "u2"} {
		if src, _ := s.Active(ctx, uid); src != "discard; # "+uid {
			t.Errorf("%s: restored %q", uid, src)
		}
	}
	if src, _ := s.Active(ctx, "u3"); src != "" {
		t.Errorf("u3 was not active: %q", src)
	}
}
