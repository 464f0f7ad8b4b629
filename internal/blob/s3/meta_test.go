package s3

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// TestValueRoundTrip: every printable ASCII value survives, and the
// stored form never has what HTTP or minio-go would alter.
func TestValueRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []string{"", " ", "a", " a", "a ", "=?", "=?x?=", "b64:", "b64:!!", "a  b", "~"}
	for range 2000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(0x20 + r.IntN(0x7f-0x20))
		}
		values = append(values, string(b))
	}
	for _, v := range values {
		enc := encodeValue(v)
		if enc == "" || enc[0] == ' ' || enc[len(enc)-1] == ' ' || strings.HasPrefix(enc, "=?") {
			t.Errorf("encodeValue(%q) = %q would not survive HTTP", v, enc)
		}
		if got := decodeValue(enc); got != v {
			t.Errorf("decodeValue(encodeValue(%q)) = %q", v, got)
		}
	}
	if got := decodeValue("b64:not base64!"); got != "b64:not base64!" {
		t.Errorf("decodeValue of a foreign value = %q", got)
	}
}

func TestDecodeMetaKeys(t *testing.T) {
	got := decodeMeta(map[string]string{"From": "a", "Queue-Id": "b", "X-1": encodeValue(" c ")})
	want := map[string]string{"from": "a", "queue-id": "b", "x-1": " c "}
	if len(got) != len(want) {
		t.Fatalf("decodeMeta = %q", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("decodeMeta[%q] = %q, want %q", k, got[k], v)
		}
	}
	if decodeMeta(nil) != nil {
		t.Error("decodeMeta(nil) is not nil")
	}
}

func TestEncodeMetaLimit(t *testing.T) {
	if _, err := encodeMeta(map[string]string{"k": strings.Repeat("v", maxMetaBytes-1)}); err != nil {
		t.Fatalf("2 KiB exactly: %v", err)
	}
	_, err := encodeMeta(map[string]string{"k": strings.Repeat("v", maxMetaBytes)})
	if !errors.Is(err, blob.ErrBadMeta) || !fault.IsPermanent(err) {
		t.Fatalf("over 2 KiB: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 8 {
		d := min(retryBase<<attempt, retryCap)
		for range 100 {
			if b := backoff(attempt); b < d/2 || b > d {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, b, d/2, d)
			}
		}
	}
	if retryCap > 5*time.Second {
		t.Fatal("backoff cap too long for an SMTP client waiting on DATA")
	}
}
