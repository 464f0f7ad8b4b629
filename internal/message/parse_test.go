package message

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func parse(t testing.TB, raw string) *Summary {
	t.Helper()
	s, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, []byte(raw), s)
	return s
}

func TestParseSizes(t *testing.T) {
	raw := "Subject: x\r\n\r\nab\r\ncd"
	s := parse(t, raw)
	if s.HeaderSize != 14 || string(s.Header) != "Subject: x\r\n\r\n" {
		t.Errorf("header = %q (%d)", s.Header, s.HeaderSize)
	}
	if s.Body.Size != 6 || s.Body.Lines != 1 || s.Size != 20 || s.Lines != 3 {
		t.Errorf("body %d/%d, message %d/%d", s.Body.Size, s.Body.Lines, s.Size, s.Lines)
	}
	if s.Body.Type != "text" || s.Body.Subtype != "plain" {
		t.Errorf("default type = %s/%s", s.Body.Type, s.Body.Subtype)
	}
}

func TestParseMultipartSizes(t *testing.T) {
	// The CRLF before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
	raw := "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\n\r\n--b\r\n--b--\r\n"
	s := parse(t, raw)
	p := s.Body.Parts
	if len(p) != 3 {
		t.Fatalf("%d parts", len(p))
	}
	want := [][2]int64{{3, 0}, {0, 0}, {0, 0}}
	for i, w := range want {
		if p[i].Size != w[0] || p[i].Lines != w[1] {
			t.Errorf("part %d: size %d lines %d, want %v", i+1, p[i].Size, p[i].Lines, w)
		}
	}
	if p[1].Subtype != "html" {
		t.Errorf("part 2 is %s/%s", p[1].Type, p[1].Subtype)
	}
}

func TestParseGroups(t *testing.T) {
	s := parse(t, "To: undisclosed-recipients:;\r\n"+
		"Cc: Team: a@x.example, \"B, Jr\" <b@y.example>;, c@z.example\r\n"+
		"Bcc: broken <<, d@w.example, =?x-unknown?q?N=E9?= <e@v.example>\r\n\r\n")
	env := s.Envelope
	if want := []Address{{Mailbox: "undisclosed-recipients"}, {}}; !reflect.DeepEqual(env.To, want) {
		t.Errorf("To = %+v, want %+v", env.To, want)
	}
	wantCc := []Address{{Mailbox: "Team"}, {Mailbox: "a", Host: "x.example"}, {Name: "B, Jr", Mailbox: "b", Host: "y.example"}, {}, {Mailbox: "c", Host: "z.example"}}
	if !reflect.DeepEqual(env.Cc, wantCc) {
		t.Errorf("Cc = %+v, want %+v", env.Cc, wantCc)
	}
	if len(env.Bcc) != 2 || env.Bcc[0].Mailbox != "d" || env.Bcc[1].Host != "v.example" || env.Bcc[1].Name != "Né" {
		t.Errorf("Bcc = %+v: a bad mailbox or charset must not lose the others", env.Bcc)
	}
	ie := s.IMAPEnvelope()
	if !ie.To[0].IsGroupStart() || !ie.To[1].IsGroupEnd() {
		t.Errorf("IMAP To = %+v, want group markers", ie.To)
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2024, 6, 4, 11, 59, 58, 0, time.FixedZone("", 2*3600))
	for _, v := range []string{
		"Tue, 4 Jun 2024 11:59:58 +0200",
		"Tue, 04 Jun 2024 11:59:58 +0200 (CEST)",
		"4 Jun 2024 11:59:58 +0200",
		"Tue,  4 Jun 2024 11:59:58 GMT+2",
		"Tue 4 Jun 2024 11:59:58 +0200",
		"2024-06-04T11:59:58+02:00",
		"Tue Jun 4 11:59:58 +0200 2024",
	} {
		if got := parseDate(v); !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, want %v", v, got, want)
		}
	}
	for _, v := range []string{"", "yesterday", "Tue, 4 Jun 99999 11:59:58 +0200"} {
		if got := parseDate(v); !got.IsZero() {
			t.Errorf("parseDate(%q) = %v, want zero", v, got)
		}
	}
}

func TestParseEightBitAndNUL(t *testing.T) {
	s := parse(t, "Subject: caf\xe9 \x00 ok\r\nFrom: J\xfcrgen <j@x.example>\r\n"+
		"Content-Type: text/plain; name=\"\xff\"\r\n\r\nbody \x00 with NUL\r\n")
	if s.Envelope.Subject != "café   ok" || s.Envelope.From[0].Name != "Jürgen" {
		t.Errorf("subject %q, from %+v", s.Envelope.Subject, s.Envelope.From)
	}
	if s.Body.Params["name"] != "ÿ" {
		t.Errorf("params %q", s.Body.Params)
	}
}

func TestParseLenientContentType(t *testing.T) {
	raw := "Content-Type: multipart/alternative;\r\n\tboundary=----=_Part_0_1.2; charset=x; charset=y\r\n\r\n" +
		"------=_Part_0_1.2\r\nContent-Type: text/plain\r\n\r\na\r\n" +
		"------=_Part_0_1.2\r\nContent-Type: text/html\r\n\r\nb\r\n------=_Part_0_1.2--\r\n"
	s := parse(t, raw)
	if s.Body.Type != "multipart" || len(s.Body.Parts) != 2 {
		t.Fatalf("got %s/%s with %d parts", s.Body.Type, s.Body.Subtype, len(s.Body.Parts))
	}
}

func TestParseBroken(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	manyParts := func(n int) string {
		var b strings.Builder
		b.WriteString("Content-Type: multipart/mixed; boundary=p\r\n\r\n")
		for i := range n {
			fmt.Fprintf(&b, "--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
		}
		b.WriteString("--p--\r\n")
		return b.String()
	}
	deep := func(n int, ct func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(ct(i) + "\r\n\r\n")
			if strings.Contains(ct(i), "multipart") {
				fmt.Fprintf(&b, "--b%d\r\n", i)
			}
		}
		b.WriteString("leaf\r\n")
		return b.String()
	}
	cases := map[string]string{
		"1 MB header line":       "Subject: " + big + "\r\nFrom: a@b.example\r\n\r\nbody\r\n",
		"1 MB body line":         "Subject: x\r\n\r\n" + big,
		"1 MB boundary line":     "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q" + big + "\r\n--q--\r\n",
		"2000 parts":             manyParts(2000),
		"deep multipart":         deep(200, func(i int) string { return fmt.Sprintf("Content-Type: multipart/mixed; boundary=b%d", i) }),
		"deep rfc822":            deep(200, func(int) string { return "Content-Type: message/rfc822" }),
		"no boundary param":      "Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\ny\r\n",
		"boundary never seen":    "Content-Type: multipart/mixed; boundary=zz\r\n\r\njust text\r\n",
		"close before any part":  "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz--\r\n",
		"empty":                  "",
		"only CRLF":              "\r\n",
		"no header end":          "Subject: a\r\nFrom: b",
		"bare CR":                "Subject: a\r\r\n\rbody\r",
		"continuation first":     " folded\r\nSubject: a\r\n\r\n",
		"unterminated quote":     "Content-Type: text/plain; name=\"abc\r\nSubject: =?utf-8?q?x\r\n\r\n",
		"bad encoded word":       "Subject: =?utf-8?b?!!!?= =?koi8-r?q?=F0=D2?=\r\n\r\n",
		"rfc822 without header":  "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n--m--\r\n",
		"nested same boundary":   "Content-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\nContent-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\n\r\nx\r\n--s--\r\n--s--\r\n",
		"digest default type":    "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: inner\r\n\r\nhi\r\n--d--\r\n",
		"huge year date":         "Date: Tue, 4 Jun 99999 11:59:58 +9999\r\n\r\n",
		"many addresses":         "To: " + strings.Repeat("a@b.example, ", 5000) + "\r\n\r\n",
		"parameter continuation": "Content-Type: text/plain; name*0=a; name*1=b; name*99999999999=c\r\n\r\n",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			s := parse(t, raw)
			var count func(p *Part, depth int) (int, int)
			count = func(p *Part, depth int) (n, d int) {
				n, d = 1, depth
				for i := range p.Parts {
					cn, cd := count(&p.Parts[i], depth+1)
					n, d = n+cn, max(d, cd)
				}
				return n, d
			}
			if n, d := count(&s.Body, 0); n > MaxParts || d > MaxDepth {
				t.Errorf("%d parts, depth %d", n, d)
			}
		})
	}
	if s := parse(t, cases["digest default type"]); s.Body.Parts[0].Type != "message" || s.Body.Parts[0].Envelope.Subject != "inner" {
		t.Errorf("digest part = %+v", s.Body.Parts[0])
	}
	if s := parse(t, cases["2000 parts"]); len(s.Body.Parts) != MaxParts-1 {
		t.Errorf("2000 parts: kept %d", len(s.Body.Parts))
	}
	if s := parse(t, cases["1 MB header line"]); s.HeaderSize != int64(len(big)+32) || len(s.Envelope.From) != 1 {
		t.Errorf("1 MB header: size %d, from %+v", s.HeaderSize, s.Envelope.From)
	}
}

// TestParseStreams parses a 32 MiB message made on the fly and checks that
// it allocates a small fraction of that: Parse never holds the message.
func TestParseStreams(t *testing.T) {
	const size = 32 << 20
	head := "Content-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\nContent-Type: application/octet-stream\r\n\r\n"
	r := io.MultiReader(strings.NewReader(head), &lineSource{n: size}, strings.NewReader("\r\n--s--\r\n"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := Parse(r)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if s.Body.Parts[0].Size != size {
		t.Errorf("part size = %d, want %d", s.Body.Parts[0].Size, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("allocated %d bytes for a %d byte message", alloc, size)
	}
}

// lineSource yields n bytes of base64-like 76-column lines.
type lineSource struct{ n, off int }

func (l *lineSource) Read(p []byte) (int, error) {
	if l.off >= l.n {
		return 0, io.EOF
	}
	n := min(len(p), l.n-l.off)
	for i := range n {
		if (l.off+i)%78 >= 76 {
			p[i] = "\r\n"[(l.off+i)%78-76]
		} else {
			p[i] = 'A' + byte((l.off+i)%26)
		}
	}
	l.off += n
	return n, nil
}

func TestParseReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("Subject: x\r\n\r\nbody"), &errReader{boom})
	if _, err := Parse(r); !errors.Is(err, boom) {
		t.Fatalf("Parse = %v, want %v", err, boom)
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestUnmarshalGarbage(t *testing.T) {
	if _, err := Unmarshal([]byte("{not json")); err == nil {
		t.Fatal("Unmarshal accepted garbage")
	}
	// A summary from an empty object is still usable.
	s, err := Unmarshal([]byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	checkIMAP(t, s.IMAPBodyStructure(true), true)
}

func TestMarshalRoundTripSamples(t *testing.T) {
	for name, raw := range samples(t) {
		s, err := Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Unmarshal(s.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if !s2.Date.Equal(s.Date) {
			t.Errorf("%s: Date %v != %v", name, s2.Date, s.Date)
		}
		s2.Date = s.Date
		if !reflect.DeepEqual(s, s2) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v", name, s, s2)
		}
	}
}
