package imapgw

import "testing"

func TestBodyCacheEvictsLeastRecent(t *testing.T) {
	c := newBodyCache(10, 6)
	c.put("a", []byte("aaaa"))
	c.put("b", []byte("bbbb"))
	c.get("a") // b is now the least recent
	c.put("c", []byte("cccc"))
	if _, ok := c.get("b"); ok {
		t.Error("b survived eviction")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	c.put("big", []byte("0123456789"))
	if _, ok := c.get("big"); ok {
		t.Error("entry over the per-entry bound was cached")
	}
}
