package message

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

func extract(t testing.TB, raw string, lim TextLimits) Text {
	t.Helper()
	text, err := ExtractText(strings.NewReader(raw), lim)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestExtractText(t *testing.T) {
	cases := []struct {
		name, raw string
		head      []string // substrings of Head
		body      []string // substrings of Body
		notBody   []string
	}{
		{
			name: "utf-8 plain",
			raw:  "Subject: Grüße\r\nFrom: \"Jörg Ähm\" <joerg@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDas Wetter in MÜNCHEN ist schön.\r\n",
			head: []string{"grüße", "jörg ähm", "joerg@example.org"},
			body: []string{"wetter in münchen", "schön."},
		},
		{
			name: "iso-8859-1 quoted-printable",
			raw:  "Subject: =?iso-8859-1?q?Caf=E9?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCr=E8me br=FBl=E9e, tr=\r\n=E8s bien\r\n",
			head: []string{"café"},
			body: []string{"crème brûlée", "très bien"},
		},
		{
			name: "base64 utf-8",
			raw:  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + "0J/RgNC40LLQtdGCLCDQvNC40YAh\r\n",
			body: []string{"привет, мир!"},
		},
		{
			name:    "html entities and tags",
			raw:     "Content-Type: text/html\r\n\r\n<html><head><style>p{color:red}</style><script>var secret=1;</script></head><body><p>Fish &amp; Chips</p><p>caf&eacute; &#169;&#x263A;</p><!-- hidden --></body></html>\r\n",
			body:    []string{"fish & chips", "café ©☺"},
			notBody: []string{"<p>", "&amp;", "color:red", "secret", "hidden"},
		},
		{
			name: "multipart with attachment and enclosed message",
			raw: "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n" +
				"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?utf-8?q?Quartalsbericht_Q3.pdf?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\nSlVOS0JJTkFSWQ==\r\n" +
				"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: Inner Subject\r\n\r\ninner body text\r\n--b1--\r\n",
			head:    []string{"outer", "inner subject", "application/pdf"},
			body:    []string{"first part", "quartalsbericht q3.pdf", "inner body text"},
			notBody: []string{"junkbinary"},
		},
		{
			name: "no header",
			raw:  "just some words\r\nwithout a header\r\n",
			body: []string{"just some words"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := extract(t, c.raw, IndexLimits)
			for _, s := range c.head {
				if !strings.Contains(text.Head, s) {
					t.Errorf("head lacks %q: %q", s, text.Head)
				}
			}
			for _, s := range c.body {
				if !strings.Contains(text.Body, s) {
					t.Errorf("body lacks %q: %q", s, text.Body)
				}
			}
			for _, s := range c.notBody {
				if strings.Contains(text.Body, s) {
					t.Errorf("body has %q: %q", s, text.Body)
				}
			}
			if text.Truncated {
				t.Error("truncated")
			}
		})
	}
}

// TestExtractTextPrefix checks that limited text is a prefix of the whole
// text, which a search relies on to read only truncated messages whose
// prefix does not match.
func TestExtractTextPrefix(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: big\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n")
	for i := range 50 {
		fmt.Fprintf(&b, "--x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>part %d &amp; ünïcödé ✓ %s</p>\r\n", i, strings.Repeat("wörd ", 300))
	}
	b.WriteString("--x--\r\n")
	raw := b.String()
	whole := extract(t, raw, NoLimits)
	for _, lim := range []TextLimits{{Head: 5, Body: 7}, {Head: 100, Body: 1000}, {Head: 1 << 10, Body: 4099}, IndexLimits} {
		cut := extract(t, raw, lim)
		if !cut.Truncated || len(cut.Body) > lim.Body || len(cut.Head) > lim.Head {
			t.Errorf("%+v: truncated %v, %d/%d bytes", lim, cut.Truncated, len(cut.Head), len(cut.Body))
		}
		if !strings.HasPrefix(whole.Body, cut.Body) || !strings.HasPrefix(whole.Head, cut.Head) {
			t.Errorf("%+v: not a prefix of the whole text", lim)
		}
	}
	if whole.Truncated {
		t.Error("whole text truncated")
	}
}

// TestHTMLTextPrefix checks the HTML reduction of every cut of a document
// against that of the whole.
func TestHTMLTextPrefix(t *testing.T) {
	doc := `<div class="a>b">x &lt; y &amp&amp; z</div><script>if (a<b) {}</SCRIPT>after<!-- c -->&#x41;<br/>end &unknown; a<b`
	whole := htmlText(doc, true)
	for i := range len(doc) {
		if p := htmlText(doc[:i], false); !strings.HasPrefix(whole, p) {
			t.Fatalf("cut at %d: %q is not a prefix of %q", i, p, whole)
		}
	}
	if want := "\nx < y &amp& z\nafterA\nend &unknown; a<b"; whole != want {
		t.Errorf("got %q, want %q", whole, want)
	}
}

// TestExtractTextHostile: deep nesting and a huge text part are read once,
// to the end, and give bounded text.
func TestExtractTextHostile(t *testing.T) {
	var b bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ndeep down\r\n")
	for i := 9999; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	b.WriteString(strings.Repeat("Q", 1<<20))
	for _, raw := range [][]byte{b.Bytes(), []byte("Subject: huge\r\n\r\n" + strings.Repeat("lorem ipsum ", 4<<20))} {
		cr := &countReader{r: bytes.NewReader(raw)}
		text, err := ExtractText(cr, IndexLimits)
		if err != nil {
			t.Fatal(err)
		}
		if cr.n != int64(len(raw)) {
			t.Errorf("read %d of %d bytes", cr.n, len(raw))
		}
		if len(text.Head) > IndexLimits.Head || len(text.Body) > IndexLimits.Body || !text.Truncated {
			t.Errorf("text %d/%d bytes, truncated %v", len(text.Head), len(text.Body), text.Truncated)
		}
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestTextTee(t *testing.T) {
	raw := "Subject: tee\r\n\r\nbody words\r\n"
	r, tee := NewTextTee(strings.NewReader(raw), IndexLimits)
	sum, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	text, err := tee.Wait(nil)
	if err != nil || sum.Size != int64(len(raw)) {
		t.Fatal(err, sum.Size)
	}
	if text.Head != "tee\n" || text.Body != "body words\r\n" {
		t.Errorf("got %+v", text)
	}
}

func FuzzExtractText(f *testing.F) {
	f.Add([]byte("Subject: a\r\nContent-Type: text/html\r\n\r\n<p>x&amp;y</p>"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n\r\nabc\r\n--z--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		whole, err := ExtractText(bytes.NewReader(raw), NoLimits)
		if err != nil {
			t.Fatal(err)
		}
		cut, err := ExtractText(bytes.NewReader(raw), TextLimits{Head: 10, Body: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(whole.Body, cut.Body) || !strings.HasPrefix(whole.Head, cut.Head) {
			t.Fatalf("%+v is not a prefix of %+v", cut, whole)
		}
	})
}
