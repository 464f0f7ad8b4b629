package message

import (
	"bytes"
	"strings"
	"testing"
)

func TestOriginators(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		want         string // "name=addr,addr;..." with "!" after a non-strict field
		ambiguous    bool
	}{
		{"plain", "From: A <a@x.test>\r\nTo: b@y.test\r\n\r\nFrom: body@x.test\r\n", "from=a@x.test", false},
		{"obsolete space", "From : bob@other.test\r\nFrom: a@x.test\r\n", "from=bob@other.test;from=a@x.test", false},
		{"case and tab", "fROM\t:\r\n a@x.test\r\nSENDER: s@x.test\r\n", "from=a@x.test;sender=s@x.test", false},
		{"resent", "Resent-From: r@x.test\r\nResent-Sender: q@x.test\r\n", "resent-from=r@x.test;resent-sender=q@x.test", false},
		{"two addresses", "From: a@x.test, b@y.test\r\n", "from=a@x.test,b@y.test", false},
		{"group", "From: g: a@x.test;\r\n", "from=g,a@x.test,!", false},
		{"salvaged", "From: bob@other.test <a@x.test>\r\n", "from=a@x.test!", false},
		{"encoded name", "From: =?utf-8?q?bob=40other.test?= <a@x.test>\r\n", "from=a@x.test", false},
		{"space inside name", "Fr om: bob@other.test\r\nFrom: a@x.test\r\n", "from=a@x.test", true},
		{"nul in name", "From\x00: bob@other.test\r\nFrom: a@x.test\r\n", "from=a@x.test", true},
		{"leading space", " From: bob@other.test\r\nFrom: a@x.test\r\n", "from=a@x.test", true},
		{"lf only", "From: a@x.test\nX: y\n\nFrom: b@x.test\n", "from=a@x.test", false},
		{"other fields", "Subject: From: bob@other.test\r\nX-From: c@x.test\r\n", "", false},
	} {
		fields, amb := Originators([]byte(tc.header))
		var got []string
		for _, f := range fields {
			var addrs []string
			for _, a := range f.Addresses {
				addrs = append(addrs, a.Address())
			}
			s := f.Name + "=" + strings.Join(addrs, ",")
			if !f.Strict {
				s += "!"
			}
			got = append(got, s)
		}
		if g := strings.Join(got, ";"); g != tc.want || amb != tc.ambiguous {
			t.Errorf("%s: Originators = %q, ambiguous %v; want %q, %v", tc.name, g, amb, tc.want, tc.ambiguous)
		}
	}
}

// FuzzOriginatorsMatchEnvelope checks that the submission check and the
// IMAP envelope cannot disagree: whenever Originators finds exactly one
// From: field and nothing ambiguous, the envelope's From is its addresses.
func FuzzOriginatorsMatchEnvelope(f *testing.F) {
	for _, h := range []string{
		"From: a@x.test\r\n\r\nbody",
		"From : Bob <b@y.test>\r\nSubject: s\r\n\r\n",
		"Subject: s\r\nfrom:\r\n\t=?utf-8?q?A?= <a@x.test>\r\n\r\n",
		"From: g: a@x.test, b@y.test;\r\n\r\n",
		"X: y\nFrom: a@x.test\n\nFrom: b@y.test\n",
		"From: \"q\\\"uote\" <a@x.test>\r\n",
		"Fr\x00om: b@y.test\r\nFrom: a@x.test\r\n\r\n",
	} {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > maxFields/2 {
			return // the envelope's shared field budget could cut From
		}
		fields, ambiguous := Originators(raw)
		var from []Originator
		for _, o := range fields {
			if o.Name == "from" {
				from = append(from, o)
			}
		}
		if ambiguous || len(from) != 1 {
			return
		}
		s, err := Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		got, want := s.Envelope.From, from[0].Addresses
		if len(got) != len(want) {
			t.Fatalf("envelope From %v, Originators %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("envelope From %v, Originators %v", got, want)
			}
		}
	})
}
