package authcheck

import (
	"bufio"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
)

// dkimValues lists the values of the DKIM results of res.
func dkimValues(res Result) []authres.ResultValue {
	var out []authres.ResultValue
	for _, d := range res.DKIM {
		out = append(out, d.Value)
	}
	return out
}

func TestDKIMHugeFoldedHeader(t *testing.T) {
	// The 1.2 MB message of 300,000 folded lines: over the header limit,
	// its signatures are permerror, and it is still checked (SPF). Its
	// From: lies past the limit: DMARC is permerror and the message goes
	// to Junk, so that a From: hidden there escapes no policy.
	w := newWorld(t)
	signed := w.signed(message("bob@sender.example"))
	raw := "X-Junk: a\r\n" + strings.Repeat(" x\r\n", 300_000) + signed
	res := w.check(t, clientIP, "mx.sender.example", "bob@sender.example", raw)
	if got := dkimValues(res); len(got) != 1 || got[0] != authres.ResultPermError {
		t.Fatalf("dkim = %v, want one permerror (no signature before the limit)", got)
	}
	if res.SPF != authres.ResultPass || res.DMARC != authres.ResultPermError || res.Disposition != DispositionQuarantine {
		t.Fatalf("spf=%s dmarc=%s disposition=%s", res.SPF, res.DMARC, res.Disposition)
	}
	if !strings.Contains(res.Header, "dkim=permerror") || !strings.Contains(res.Header, "dmarc=permerror") {
		t.Fatalf("header %q", res.Header)
	}

	// Signatures first, then the junk: each signature is permerror, with
	// its domain.
	at := strings.Index(signed, "Received:")
	raw = signed[:at] + "X-Junk: a\r\n" + strings.Repeat(" x\r\n", 300_000) + signed[at:]
	res = w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", raw)
	if got := dkimValues(res); len(got) != 2 || got[0] != authres.ResultPermError || res.DKIM[0].Domain != "sender.example" {
		t.Fatalf("dkim = %+v", res.DKIM)
	}
	if res.DMARC != authres.ResultPermError || res.Disposition != DispositionQuarantine {
		t.Fatalf("dmarc = %s %s", res.DMARC, res.Disposition)
	}
}

func TestDKIMUnsignedFieldsDoNotCount(t *testing.T) {
	// Fields no signature covers are not given to the verifier: a
	// heavily folded one, within the header limit, changes nothing.
	w := newWorld(t)
	signed := w.signed(message("bob@sender.example"))
	raw := "X-Junk: a\r\n" + strings.Repeat(" x\r\n", 20_000) + signed
	res := w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", raw)
	if got := dkimValues(res); len(got) != 2 || got[0] != authres.ResultPass || got[1] != authres.ResultPass {
		t.Fatalf("dkim = %+v", res.DKIM)
	}
	// An unsigned field named like a covered one is still given to it, so
	// the result is what the whole header gives: fail.
	i := strings.Index(signed, "\r\n\r\n")
	raw = signed[:i] + "\r\nSubject: added\r\n" + signed[i+2:]
	res = w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", raw)
	if got := dkimValues(res); len(got) != 2 || got[0] != authres.ResultFail {
		t.Fatalf("dkim with an added Subject = %+v", res.DKIM)
	}
}

func TestDKIMSignedFieldTooFolded(t *testing.T) {
	w := newWorld(t)
	msg := strings.Replace(message("bob@sender.example"), "Subject: hi\r\n",
		"Subject: hi\r\n"+strings.Repeat(" x\r\n", maxFieldLines), 1)
	res := w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", w.signed(msg))
	if got := dkimValues(res); len(got) != 2 || got[0] != authres.ResultPermError || !strings.Contains(res.DKIM[0].Reason, "folded") {
		t.Fatalf("dkim = %+v", res.DKIM)
	}
	// One line fewer is verified.
	msg = strings.Replace(message("bob@sender.example"), "Subject: hi\r\n",
		"Subject: hi\r\n"+strings.Repeat(" x\r\n", maxFieldLines-1), 1)
	res = w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", w.signed(msg))
	if got := dkimValues(res); len(got) != 2 || got[0] != authres.ResultPass {
		t.Fatalf("dkim = %+v", res.DKIM)
	}
}

func TestDKIMTooManySignedNames(t *testing.T) {
	w := newWorld(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w.dns.TXT("many._domainkey.sender.example", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	sign := func(names int) string {
		keys := []string{"From"}
		for i := 1; i < names; i++ {
			keys = append(keys, fmt.Sprintf("X-N%d", i))
		}
		var b strings.Builder
		err := dkim.Sign(&b, strings.NewReader(message("bob@sender.example")), &dkim.SignOptions{
			Domain: "sender.example", Selector: "many", Signer: crypto.Signer(priv), HeaderKeys: keys,
		})
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	res := w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", sign(maxSignedFields))
	if got := dkimValues(res); len(got) != 1 || got[0] != authres.ResultPass {
		t.Fatalf("%d names: dkim = %+v", maxSignedFields, res.DKIM)
	}
	res = w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", sign(maxSignedFields+1))
	if got := dkimValues(res); len(got) != 1 || got[0] != authres.ResultPermError {
		t.Fatalf("%d names: dkim = %+v", maxSignedFields+1, res.DKIM)
	}
}

func TestDKIMTooManyFields(t *testing.T) {
	w := newWorld(t)
	signed := w.signed(message("bob@sender.example"))
	for _, c := range []struct {
		extra int
		want  authres.ResultValue
	}{{maxDKIMFields - 8, authres.ResultPass}, {maxDKIMFields - 7, authres.ResultPermError}} {
		// The signed message has 8 fields: 2 signatures and 6 others.
		raw := strings.Repeat("X-F: v\r\n", c.extra) + signed
		res := w.check(t, "198.51.100.7", "mx.sender.example", "bob@sender.example", raw)
		if got := dkimValues(res); len(got) != 2 || got[0] != c.want {
			t.Fatalf("%d fields: dkim = %+v, want %s", c.extra+8, res.DKIM, c.want)
		}
	}
}

func TestReadDKIMHeader(t *testing.T) {
	for _, c := range []struct {
		raw    string
		fields int
		ok     bool
	}{
		{"A: b\r\n c\r\nD: e\r\n\r\nbody", 2, true},
		{"A: b\n c\nD: e\n\nbody", 2, true},
		{" lead: x\r\n\r\n", 1, true},
		{"A: b\r\n", 0, false}, // no end of header
		{"", 0, false},
	} {
		h, err := readDKIMHeader(bufioReader(c.raw))
		if (err == nil) != c.ok || (err == nil && len(h.fields) != c.fields) {
			t.Errorf("%q: %v %v", c.raw, h, err)
		}
	}
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
