package srs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

var (
	keyA = []byte("0123456789abcdef0123456789abcdef")
	keyB = []byte("fedcba9876543210fedcba9876543210")
	day0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
)

func TestForwardReverseSRS0(t *testing.T) {
	a, err := Forward(keyA, "Alice.Smith@Example.net", "fwd.example.org", day0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "SRS0=") || !strings.HasSuffix(a, "=Example.net=Alice.Smith@fwd.example.org") || !IsSRS(a) {
		t.Fatalf("Forward = %q", a)
	}
	for _, addr := range []string{a, strings.ToLower(a)} {
		got, err := Reverse([][]byte{keyB, keyA}, addr, day0.Add(20*24*time.Hour))
		if err != nil || !strings.EqualFold(got, "Alice.Smith@Example.net") {
			t.Errorf("Reverse(%q) = %q, %v", addr, got, err)
		}
	}
}

func TestReverseRefuses(t *testing.T) {
	a, _ := Forward(keyA, "alice@example.net", "example.org", day0)
	tampered := strings.Replace(a, "=example.net=alice@", "=example.net=mallory@", 1)
	forged := "SRS0=AAAAAA=" + timestamp(day0) + "=example.net=alice@example.org"
	cases := []struct {
		name string
		keys [][]byte
		addr string
		now  time.Time
		want error
	}{
		{"wrong key", [][]byte{keyB}, a, day0, ErrInvalid},
		{"tampered", [][]byte{keyA}, tampered, day0, ErrInvalid},
		{"forged hash", [][]byte{keyA}, forged, day0, ErrInvalid},
		{"expired", [][]byte{keyA}, a, day0.Add(MaxAge + 48*time.Hour), ErrExpired},
		{"from the future", [][]byte{keyA}, a, day0.Add(-48 * time.Hour), ErrExpired},
		{"truncated", [][]byte{keyA}, "SRS0=abc@example.org", day0, ErrInvalid},
		{"SRS1 truncated", [][]byte{keyA}, "SRS1=abc@example.org", day0, ErrInvalid},
		{"not SRS", [][]byte{keyA}, "alice@example.org", day0, ErrNotSRS},
	}
	for _, c := range cases {
		if _, err := Reverse(c.keys, c.addr, c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: Reverse(%q) error %v, want %v", c.name, c.addr, err, c.want)
		}
	}
}

func TestNullSenderStaysNull(t *testing.T) {
	if a, err := Forward(keyA, "", "example.org", day0); a != "" || err != nil {
		t.Fatalf("Forward(<>) = %q, %v", a, err)
	}
}

func TestUnrewritableSender(t *testing.T) {
	if _, err := Forward(keyA, `"a b"@example.net`, "example.org", day0); err == nil {
		t.Fatal("a quoted local part was embedded")
	}
}

// A second forwarder turns SRS0 into SRS1; reversing the SRS1 gives the
// first forwarder's SRS0, which that forwarder reverses to the original.
func TestSRS1Chain(t *testing.T) {
	first, _ := Forward(keyA, "alice@example.net", "one.example", day0)
	second, err := Forward(keyB, first, "two.example", day0)
	if err != nil || !strings.HasPrefix(second, "SRS1=") || !strings.Contains(second, "=one.example==") {
		t.Fatalf("Forward(SRS0) = %q, %v", second, err)
	}
	third, err := Forward(keyA, second, "three.example", day0)
	if err != nil || !strings.Contains(third, "=one.example==") || !strings.HasSuffix(third, "@three.example") {
		t.Fatalf("Forward(SRS1) = %q, %v", third, err)
	}
	back, err := Reverse([][]byte{keyA}, third, day0)
	if err != nil || back != first {
		t.Fatalf("Reverse(SRS1) = %q, %v; want %q", back, err, first)
	}
	orig, err := Reverse([][]byte{keyA}, back, day0)
	if err != nil || orig != "alice@example.net" {
		t.Fatalf("Reverse(SRS0) = %q, %v", orig, err)
	}
	if _, err := Reverse([][]byte{keyB}, third, day0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SRS1 with the wrong key: %v", err)
	}
}

func TestTimestampWraps(t *testing.T) {
	// Day 1023 then day 0 of the next period: one day apart.
	d1023 := time.Unix(1023*86400, 0)
	a, _ := Forward(keyA, "a@example.net", "example.org", d1023)
	if _, err := Reverse([][]byte{keyA}, a, d1023.Add(24*time.Hour)); err != nil {
		t.Fatalf("across the wrap: %v", err)
	}
}

// Rotation: the new key signs, the old one verifies during the grace
// period and is deleted after it.
func TestKeyringRotation(t *testing.T) {
	ctx := t.Context()
	blobs := testenv.LocalBlobs(t)
	now := day0
	kr := &Keyring{Blobs: blobs, Now: func() time.Time { return now }}
	k1, err := kr.Signing(ctx)
	if err != nil || len(k1) != 32 {
		t.Fatalf("first key: %d bytes, %v", len(k1), err)
	}
	old, _ := Forward(k1, "alice@example.net", "example.org", now)

	// Another process reads the same store.
	other := &Keyring{Blobs: blobs, Now: func() time.Time { return now }}
	if got, err := other.Reverse(ctx, old); err != nil || got != "alice@example.net" {
		t.Fatalf("other process: %q, %v", got, err)
	}

	now = now.Add(24 * time.Hour)
	if _, err := kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	k2, _ := kr.Signing(ctx)
	if string(k2) == string(k1) {
		t.Fatal("rotation kept the signing key")
	}
	if _, err := kr.Reverse(ctx, old); err != nil {
		t.Fatalf("old key during the grace period: %v", err)
	}
	// The other process has the old keys cached; it finds the new one.
	now = now.Add(10 * time.Second)
	fresh, _ := Forward(k2, "bob@example.net", "example.org", now)
	if got, err := other.Reverse(ctx, fresh); err != nil || got != "bob@example.net" {
		t.Fatalf("other process, new key: %q, %v", got, err)
	}

	now = now.Add(MaxAge)
	if _, err := kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	infos, _ := blobs.List(ctx, keyPrefix, "", 10)
	if len(infos) != 2 {
		t.Fatalf("%d keys stored after the grace period, want 2", len(infos))
	}
	verifying, _ := kr.Verifying(ctx)
	for _, v := range verifying {
		if string(v) == string(k1) {
			t.Fatal("the first key still verifies after its grace period")
		}
	}
}

// TestKeyringRotatesBySelf: a signing key RotateEvery old is replaced when
// the next address is made; addresses of the old key still verify.
func TestKeyringRotatesBySelf(t *testing.T) {
	ctx := t.Context()
	blobs := testenv.LocalBlobs(t)
	now := day0
	kr := &Keyring{Blobs: blobs, Now: func() time.Time { return now }}
	k1, err := kr.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := Forward(k1, "alice@example.net", "example.org", now)
	now = now.Add(RotateEvery - time.Hour)
	if k, _ := kr.Signing(ctx); string(k) != string(k1) {
		t.Fatal("rotated before RotateEvery")
	}
	now = now.Add(2 * time.Hour)
	k2, err := kr.Signing(ctx)
	if err != nil || string(k2) == string(k1) {
		t.Fatalf("not rotated after RotateEvery: %v", err)
	}
	// The old address is older than MaxAge by now; its key is what counts.
	if _, err := Reverse([][]byte{k1}, old, now); !errors.Is(err, ErrExpired) {
		t.Fatalf("old address: %v", err)
	}
	fresh, _ := Forward(k1, "bob@example.net", "example.org", now)
	if got, err := kr.Reverse(ctx, fresh); err != nil || got != "bob@example.net" {
		t.Fatalf("an address of the previous key during the grace period: %q, %v", got, err)
	}
}
