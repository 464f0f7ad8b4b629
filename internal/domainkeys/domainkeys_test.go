package domainkeys

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

const msg = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.net\r\n" +
	"Subject: hello\r\n" +
	"Date: Tue, 4 Jun 2024 11:59:58 +0200\r\n" +
	"Message-ID: <m1@example.org>\r\n" +
	"\r\n" +
	"Hello Bob,  \r\n\r\nbye\r\n"

func openBlobs(t *testing.T) blob.Store {
	t.Helper()
	b := testenv.LocalBlobs(t)
	return b
}

// lookup serves the TXT records of keys, as DNS would once published.
func lookup(keys []Key) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		for _, k := range keys {
			if strings.EqualFold(name, k.Record()) {
				return []string{k.TXT}, nil
			}
		}
		return nil, errors.New("no such record")
	}
}

func TestGenerateListDualSign(t *testing.T) {
	ctx := t.Context()
	blobs := openBlobs(t)
	ed, err := Generate(ctx, blobs, "Example.org", "bm202606e", Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Generate(ctx, blobs, "example.org", "bm202606r", RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ed.TXT, "v=DKIM1; k=ed25519; p=") || !strings.HasPrefix(rs.TXT, "v=DKIM1; k=rsa; p=") {
		t.Fatalf("TXT records: %q, %q", ed.TXT, rs.TXT)
	}
	if _, err := Generate(ctx, blobs, "example.org", "bm202606e", Ed25519); !errors.Is(err, ErrExists) {
		t.Fatalf("second Generate: %v, want ErrExists", err)
	}
	if _, err := Generate(ctx, blobs, "other.example", "s1", Ed25519); err != nil {
		t.Fatal(err)
	}
	keys, err := List(ctx, blobs, "EXAMPLE.ORG")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != ed || keys[1] != rs {
		t.Fatalf("List = %+v, want %+v and %+v", keys, ed, rs)
	}
	if keys[1].Algorithm != RSA2048 || keys[1].Created.IsZero() {
		t.Fatalf("RSA key: %+v", keys[1])
	}
	all, err := List(ctx, blobs, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("List all = %d keys, %v", len(all), err)
	}

	var out bytes.Buffer
	if err := Sign(ctx, blobs, "example.org", &out, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	signed := out.String()
	if !strings.HasSuffix(signed, msg) || strings.Count(signed, "DKIM-Signature:") != 2 {
		t.Fatalf("signed message:\n%s", signed)
	}
	if !strings.Contains(signed, "c=relaxed/relaxed") {
		t.Fatalf("not relaxed/relaxed:\n%s", signed)
	}
	verifs, err := dkim.VerifyWithOptions(strings.NewReader(signed), &dkim.VerifyOptions{LookupTXT: lookup(keys)})
	if err != nil {
		t.Fatal(err)
	}
	if len(verifs) != 2 {
		t.Fatalf("%d verifications, want 2", len(verifs))
	}
	for _, v := range verifs {
		if v.Err != nil || v.Domain != "example.org" {
			t.Fatalf("verification %+v: %v", v, v.Err)
		}
	}
	// A changed body breaks both signatures.
	tampered := strings.Replace(signed, "bye", "BYE", 1)
	verifs, err = dkim.VerifyWithOptions(strings.NewReader(tampered), &dkim.VerifyOptions{LookupTXT: lookup(keys)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range verifs {
		if v.Err == nil {
			t.Fatal("tampered message verified")
		}
	}
}

func TestSignWithoutKeyCopies(t *testing.T) {
	var out bytes.Buffer
	if err := Sign(t.Context(), openBlobs(t), "example.org", &out, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	if out.String() != msg {
		t.Fatalf("got %q", out.String())
	}
}

func TestSignLargeMessageSpools(t *testing.T) {
	ctx := t.Context()
	blobs := openBlobs(t)
	k, err := Generate(ctx, blobs, "example.org", "big", Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	big := msg + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n", 3*spoolMemory/64)
	var out bytes.Buffer
	if err := Sign(ctx, blobs, "example.org", &out, strings.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), big) {
		t.Fatal("spooled message changed")
	}
	verifs, err := dkim.VerifyWithOptions(&out, &dkim.VerifyOptions{LookupTXT: lookup([]Key{k})})
	if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
		t.Fatalf("verify: %v %+v", err, verifs)
	}
}

func TestDeleteAndInvalid(t *testing.T) {
	ctx := t.Context()
	blobs := openBlobs(t)
	if _, err := Generate(ctx, blobs, "example.org", "s1", Ed25519); err != nil {
		t.Fatal(err)
	}
	if err := Delete(ctx, blobs, "example.org", "s1"); err != nil {
		t.Fatal(err)
	}
	if keys, err := List(ctx, blobs, "example.org"); err != nil || len(keys) != 0 {
		t.Fatalf("after Delete: %v %v", keys, err)
	}
	for _, c := range [][3]string{
		{"example.org", "s/1", Ed25519}, {"exa mple.org", "s1", Ed25519}, {"example.org", "s1", "dsa"}, {"", "s1", Ed25519},
	} {
		if _, err := Generate(ctx, blobs, c[0], c[1], c[2]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Generate(%q, %q, %q) = %v, want ErrInvalid", c[0], c[1], c[2], err)
		}
	}
}
