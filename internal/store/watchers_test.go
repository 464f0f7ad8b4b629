package store

import (
	"slices"
	"testing"
)

// TestWatchers: first and last watcher of a key are reported, a
// notification never blocks and coalesces, and removed or closed channels
// are closed once.
func TestWatchers(t *testing.T) {
	var w Watchers
	a, b, c := make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}, 1)
	if !w.Add("u1", a) || w.Add("u1", b) || !w.Add("u2", c) {
		t.Fatal("Add did not report the first watcher of each key only")
	}
	w.Notify("u1")
	w.Notify("u1") // coalesced, must not block
	if len(a) != 1 || len(b) != 1 || len(c) != 0 {
		t.Fatalf("pending after Notify(u1): %d %d %d, want 1 1 0", len(a), len(b), len(c))
	}
	keys := w.Keys()
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"u1", "u2"}) {
		t.Errorf("Keys = %v", keys)
	}
	if found, last := w.Remove("u1", a); !found || last {
		t.Errorf("Remove(a) = %v, %v; want found, not last", found, last)
	}
	if found, _ := w.Remove("u1", a); found {
		t.Error("a removed twice")
	}
	<-a
	if _, ok := <-a; ok {
		t.Error("a not closed by Remove")
	}
	if found, last := w.Remove("u1", b); !found || !last {
		t.Errorf("Remove(b) = %v, %v; want found and last", found, last)
	}
	w.CloseAll()
	if _, ok := <-c; ok {
		t.Error("c not closed by CloseAll")
	}
	if found, _ := w.Remove("u2", c); found || len(w.Keys()) != 0 {
		t.Error("CloseAll left a watcher")
	}
}
