package resolver

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// counting answers TXT lookups from a table and counts them.
type counting struct {
	calls map[string]int
	txt   map[string][]string
	errs  map[string]error
}

func (c *counting) LookupTXT(_ context.Context, name string) ([]string, error) {
	c.calls[name]++
	if err := c.errs[name]; err != nil {
		return nil, err
	}
	return append([]string(nil), c.txt[name]...), nil
}
func (c *counting) LookupMX(context.Context, string) ([]*net.MX, error)        { return nil, nil }
func (c *counting) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) { return nil, nil }
func (c *counting) LookupAddr(context.Context, string) ([]string, error)       { return nil, nil }

func TestCache(t *testing.T) {
	ctx := context.Background()
	r := &counting{calls: map[string]int{},
		txt: map[string][]string{"example.org": {"v=spf1 -all"}},
		errs: map[string]error{
			"_dmarc.example.org": &net.DNSError{Err: "no such host", Name: "_dmarc.example.org", IsNotFound: true},
			"down.example":       &net.DNSError{Err: "i/o timeout", Name: "down.example", IsTimeout: true},
		}}
	clock := time.Unix(1e9, 0)
	c := NewCache(r, time.Minute).(*Cache)
	c.now = func() time.Time { return clock }

	for range 3 {
		v, err := c.LookupTXT(ctx, "example.org")
		if err != nil || len(v) != 1 || v[0] != "v=spf1 -all" {
			t.Fatalf("LookupTXT = %q, %v", v, err)
		}
		v[0] = "changed by a caller"
		_, err = c.LookupTXT(ctx, "_dmarc.example.org")
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Fatalf("LookupTXT of a missing record: err = %v, want not found", err)
		}
		if _, err := c.LookupTXT(ctx, "down.example"); err == nil {
			t.Fatal("no error for a failing lookup")
		}
	}
	if got := r.calls; got["example.org"] != 1 || got["_dmarc.example.org"] != 1 || got["down.example"] != 3 {
		t.Fatalf("lookups = %v; want a record and a missing one once each, a failure every time", got)
	}
	clock = clock.Add(time.Minute)
	if v, _ := c.LookupTXT(ctx, "example.org"); r.calls["example.org"] != 2 || v[0] != "v=spf1 -all" {
		t.Fatalf("after the TTL: %d lookups, answer %q; want a second lookup of the record", r.calls["example.org"], v)
	}
	if NewCache(r, 0) != Lookuper(r) {
		t.Fatal("NewCache with TTL 0 is not the resolver itself")
	}
}
