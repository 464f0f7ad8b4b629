package redis

import (
	"errors"
	"slices"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

func TestParseURL(t *testing.T) {
	o, err := ParseURL("redis://u:p@h1:6380/3?dial_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Addrs, []string{"h1:6380"}) || o.DB != 3 || o.Username != "u" || o.Password != "p" ||
		o.TLSConfig != nil || o.MasterName != "" || o.IsClusterMode || o.DialTimeout.Seconds() != 2 {
		t.Fatalf("single: %+v", o)
	}
	o, err = ParseURL("rediss://h1:6380?addr=h2:6380&addr=h3:6380")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Addrs, []string{"h1:6380", "h2:6380", "h3:6380"}) || o.TLSConfig == nil || o.TLSConfig.ServerName != "h1" {
		t.Fatalf("cluster: %+v", o)
	}
	o, err = ParseURL("redis://:secret@s1:26379?addr=s2:26379&sentinel_master=mymaster&sentinel_password=sp")
	if err != nil {
		t.Fatal(err)
	}
	if o.MasterName != "mymaster" || o.Password != "secret" || o.SentinelPassword != "sp" || len(o.Addrs) != 2 {
		t.Fatalf("sentinel: %+v", o)
	}
	o, err = ParseURL("redis://h1:7000?cluster=true")
	if err != nil || !o.IsClusterMode {
		t.Fatalf("cluster=true: %+v, %v", o, err)
	}
	for _, bad := range []string{
		"http://h1", "redis://h1/x", "redis://h1?nope=1", "redis://h1?cluster=maybe",
		"redis://h1/2?addr=h2:1", "redis://h1/2?cluster=true",
	} {
		if _, err := ParseURL(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ParseURL(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
