package domainkeys

import (
	"bytes"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// TestSignFoldedHeader signs messages whose signed fields are folded, with
// CRLF or bare LF, between unsigned ones: the signers see the signed fields
// unfolded, and a verifier reading the message as sent must agree.
func TestSignFoldedHeader(t *testing.T) {
	ctx := t.Context()
	blobs := openBlobs(t)
	k, err := Generate(ctx, blobs, "example.org", "fold", Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{
		"crlf": "Received: from a\r\n\tby b\r\nFrom: Alice\r\n <alice@example.org>\r\nX-Junk: a\r\n b\r\n" +
			"Subject: a  long\r\n\t subject\r\n  folded\r\nTo: bob@example.net,\r\n carol@example.net\r\n\r\nbody\r\n",
		"lf":        "From: Alice\n <alice@example.org>\nSubject: x\n y\nX-Other: z\n\nbody\n",
		"no body":   "From: alice@example.org\r\nSubject: s\r\n",
		"no break":  "From: alice@example.org\r\nSubject: s",
		"long line": "From: alice@example.org\r\nSubject: " + strings.Repeat("w ", 40_000) + "\r\n\r\nbody\r\n",
		"folded":    string(growthtest.FoldedHeader(64 << 10)),
	} {
		var out bytes.Buffer
		if err := Sign(ctx, blobs, "example.org", &out, strings.NewReader(raw)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasSuffix(out.String(), raw) {
			t.Fatalf("%s: message changed", name)
		}
		if name == "no break" || name == "no body" {
			continue // a verifier needs the empty line after the header
		}
		verifs, err := dkim.VerifyWithOptions(&out, &dkim.VerifyOptions{LookupTXT: lookup([]Key{k})})
		if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
			t.Fatalf("%s: verify: %v %+v", name, err, verifs[0])
		}
	}
}

// TestSignGrowth: the cost of signing grows linearly with the message.
func TestSignGrowth(t *testing.T) {
	ctx := t.Context()
	blobs := openBlobs(t)
	if _, err := Generate(ctx, blobs, "example.org", "g", Ed25519); err != nil {
		t.Fatal(err)
	}
	for _, shape := range growthtest.Messages() {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(raw []byte) {
				var out bytes.Buffer
				if err := Sign(ctx, blobs, "example.org", &out, bytes.NewReader(raw)); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
