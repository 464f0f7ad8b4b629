package imapgw

import (
	"fmt"
	"testing"
)

func TestMetaCacheGenerations(t *testing.T) {
	c := newMetaCache(4) // two entries per generation
	m := func(i int) *fetchMeta { return &fetchMeta{} }
	a, b := m(0), m(1)
	c.put("a", a)
	c.put("b", b)
	c.put("c", m(2)) // a and b move to the old generation
	if c.get("a") != a {
		t.Fatal("a lost after one turn")
	}
	// a was moved back; d turns the generations again: b (old, not used
	// since) goes, a and c stay within bounds.
	c.put("d", m(3))
	c.put("e", m(4))
	if c.get("b") != nil {
		t.Fatal("b kept after two turns without use")
	}
	if n := len(c.cur) + len(c.prev); n > 4 {
		t.Fatalf("%d entries, bound 4", n)
	}
	for i := range 100 {
		c.put(fmt.Sprint(i), m(i))
	}
	if n := len(c.cur) + len(c.prev); n > 4 {
		t.Fatalf("%d entries after 100 puts, bound 4", n)
	}
}
