package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// checkMeta fails unless meta follows the blob.Store rules: keys
// [a-z0-9-], values printable ASCII.
func checkMeta(t *testing.T, meta map[string]string) {
	t.Helper()
	for k, v := range meta {
		for _, c := range []byte(k) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				t.Fatalf("metadata key %q", k)
			}
		}
		for _, c := range []byte(v) {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("metadata %s = %q is not printable ASCII", k, v)
			}
		}
		if v == "" {
			t.Fatalf("metadata %s is empty", k)
		}
	}
}

func roundTrip(t *testing.T, j Job) Job {
	t.Helper()
	meta := JobMeta(j)
	checkMeta(t, meta)
	got, err := JobFromMeta(j.BlobKey, meta)
	if err != nil {
		t.Fatalf("JobFromMeta(%q): %v", meta, err)
	}
	return got
}

func TestJobMetaRoundTrip(t *testing.T) {
	received := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))
	for _, j := range []Job{
		{
			ID: "01J9ZQ4X7K8M2N3P4Q5R6S7T8V", Queue: QueueInbound, BlobKey: "msg/01J9ZQ4X7K8M2N3P4Q5R6S7T8V",
			From: "alice@example.org", To: []string{"bob@example.org", "carol+tag@example.net"},
			ReceivedAt: received, ClientIP: "192.0.2.1", Helo: "mail.example.org",
		},
		{
			ID: "01J9ZQ4X7K8M2N3P4Q5R6S7T8W", Queue: QueueOutbound, BlobKey: "msg/01J9ZQ4X7K8M2N3P4Q5R6S7T8W",
			From:       "", // null sender (RFC 5321 section 4.5.5)
			To:         []string{`"john, doe"@example.org`, `"a\"b @c"@example.org`, "用户@例子.广告", "x%41y@example.org", "<>@x", "a,b@c"},
			ReceivedAt: received.UTC(), ClientIP: "2001:db8::1%eth0", Helo: "[192.0.2.1] weird\r\nhelo\x00",
			Auth: "Ünïcode@example.org",
		},
		{ID: "only-id", Queue: QueueInbound, BlobKey: "other/key", To: []string{""}},
	} {
		got := roundTrip(t, j)
		if !got.ReceivedAt.Equal(j.ReceivedAt) {
			t.Errorf("ReceivedAt = %v, want %v", got.ReceivedAt, j.ReceivedAt)
		}
		got.ReceivedAt, j.ReceivedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, j) {
			t.Errorf("round trip:\n got %#v\nwant %#v", got, j)
		}
	}
}

func TestJobMetaReadable(t *testing.T) {
	meta := JobMeta(Job{ID: "01J", Queue: QueueInbound, From: "a.b-c+d@example.org", To: []string{"x@y.z", "u@v.w"}})
	if meta[MetaFrom] != "a.b-c+d@example.org" || meta[MetaTo] != "x@y.z,u@v.w" || meta[MetaQueueID] != "01J" {
		t.Fatalf("common addresses should stay readable: %q", meta)
	}
	if meta[MetaFrom] = JobMeta(Job{ID: "1"})[MetaFrom]; meta[MetaFrom] != "<>" {
		t.Fatalf("null sender encoded as %q", meta[MetaFrom])
	}
}

func TestJobFromMeta(t *testing.T) {
	// The queue id comes from the key when missing; the queue defaults to
	// inbound.
	j, err := JobFromMeta("msg/01ABC", map[string]string{MetaFrom: "a@b", MetaTo: "c@d"})
	if err != nil || j.ID != "01ABC" || j.Queue != QueueInbound || j.BlobKey != "msg/01ABC" || j.From != "a@b" {
		t.Fatalf("JobFromMeta = %+v, %v", j, err)
	}
	for _, meta := range []map[string]string{
		{MetaQueueID: "01XYZ"},      // does not match the key
		{MetaFrom: "a%4"},           // truncated escape
		{MetaFrom: "a%zz"},          // bad escape
		{MetaFrom: "a%4a"},          // lower-case hex is not what we write
		{MetaTo: "a@b,,c@d"},        // empty element
		{MetaTo: "a b@c"},           // raw space
		{MetaReceived: "yesterday"}, // not RFC 3339
		{MetaHelo: ""},              // we never write empty values
		{MetaClientIP: "1.2.3.4 x"}, // raw space
	} {
		if _, err := JobFromMeta("msg/01ABC", meta); !errors.Is(err, ErrInvalid) {
			t.Errorf("JobFromMeta(%q) = %v, want ErrInvalid", meta, err)
		}
	}
	if _, err := JobFromMeta("idx/u/1", map[string]string{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("JobFromMeta without any id = %v, want ErrInvalid", err)
	}
}

func FuzzJobMeta(f *testing.F) {
	f.Add("01J9ZQ4X7K8M2N3P4Q5R6S7T8V", "alice@example.org", "bob@example.org", `"a,b"@c`, "helo", "192.0.2.1", "", int64(0))
	f.Add("x", "", "", "用户@例子.广告", "\r\n", "%", "<>", int64(-1))
	f.Fuzz(func(t *testing.T, id, from, to1, to2, helo, ip, auth string, nanos int64) {
		if id == "" {
			return // the id is required (or taken from a msg/ key)
		}
		j := Job{
			ID: id, Queue: QueueOutbound, BlobKey: "other/" + "key",
			From: from, To: []string{to1, to2}, Helo: helo, ClientIP: ip, Auth: auth,
			ReceivedAt: time.Unix(0, nanos).UTC(),
		}
		got := roundTrip(t, j)
		if !got.ReceivedAt.Equal(j.ReceivedAt) {
			t.Fatalf("ReceivedAt = %v, want %v", got.ReceivedAt, j.ReceivedAt)
		}
		got.ReceivedAt, j.ReceivedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, j) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, j)
		}
	})
}
