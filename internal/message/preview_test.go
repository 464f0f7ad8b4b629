package message

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPreview(t *testing.T) {
	long := strings.Repeat("ä", 150) + " " + strings.Repeat("ö", 100)
	cases := []struct {
		name, raw, want string
	}{
		{
			name: "plain, white space collapsed",
			raw:  "Subject: s\r\n\r\n  Hello   there,\r\n\r\n\tsee you\ttomorrow.  \r\n",
			want: "Hello there, see you tomorrow.",
		},
		{
			name: "html reduced to text",
			raw: "Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><title>T</title><style>p{color:red}</style></head>" +
				"<body><p>Fish &amp; <b>Chips</b></p><script>var x=1;</script><p>caf&eacute;</p></body></html>\r\n",
			want: "T Fish & Chips café",
		},
		{
			name: "quoted-printable iso-8859-1",
			raw:  "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCr=E8me br=FBl=E9e, tr=\r\n=E8s bien\r\n",
			want: "Crème brûlée, très bien",
		},
		{
			name: "base64 utf-8",
			raw:  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n0J/RgNC4\r\n0LLQtdGC\r\nLCDQvNC4\r\n0YAh\r\n",
			want: "Привет, мир!",
		},
		{
			name: "charset koi8-r",
			raw:  "Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n",
			want: "Привет",
		},
		{
			name: "8-bit bytes without charset read as iso-8859-1",
			raw:  "Content-Type: text/plain\r\n\r\ncaf\xe9\r\n",
			want: "café",
		},
		{
			name: "alternative: text/plain wins over an earlier html",
			raw: "Content-Type: multipart/alternative; boundary=a\r\n\r\n" +
				"--a\r\nContent-Type: text/html\r\n\r\n<p>the html</p>\r\n" +
				"--a\r\nContent-Type: text/plain\r\n\r\nthe plain text\r\n--a--\r\n",
			want: "the plain text",
		},
		{
			name: "html only, inside mixed with an attachment",
			raw: "Content-Type: multipart/mixed; boundary=m\r\n\r\n" +
				"--m\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nattached notes\r\n" +
				"--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/html\r\n\r\n<div>only&nbsp;html</div>\r\n--a--\r\n" +
				"--m--\r\n",
			want: "only html", // no-break space is white space too
		},
		{
			name: "an empty text/plain part gives way to the next",
			raw: "Content-Type: multipart/mixed; boundary=m\r\n\r\n" +
				"--m\r\nContent-Type: text/plain\r\n\r\n \r\n--m\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--m--\r\n",
			want: "second",
		},
		{
			name: "no text",
			raw: "Content-Type: multipart/mixed; boundary=m\r\n\r\n" +
				"--m\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--m--\r\n",
			want: "",
		},
		{
			name: "an enclosed message's text is not the preview",
			raw: "Content-Type: multipart/mixed; boundary=m\r\n\r\n" +
				"--m\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner text\r\n--m--\r\n",
			want: "",
		},
		{
			name: "all header: no body",
			raw:  "just a line\r\n",
			want: "",
		},
		{
			name: "long text cut at 200 characters",
			raw:  "Content-Type: text/plain; charset=utf-8\r\n\r\n" + long + "\r\n",
			want: strings.Repeat("ä", 150) + " " + strings.Repeat("ö", 49),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parse(t, c.raw).Preview
			if got != c.want {
				t.Errorf("Preview = %q, want %q", got, c.want)
			}
		})
	}
}

func TestPreviewLimits(t *testing.T) {
	// A body far over maxPreviewRaw, in one line and in many: the preview
	// is the first 200 characters, whole runes, valid UTF-8.
	for _, raw := range []string{
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("€", 1<<20) + "\r\n",
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("abcd€\r\n", 1<<16),
		"Content-Type: text/html\r\n\r\n<p>" + strings.Repeat("x", 3*maxPreviewRaw) + "</p>\r\n",
		"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + strings.Repeat("=E2=82=AC", 1<<14) + "\r\n",
	} {
		p := parse(t, raw).Preview
		if n := utf8.RuneCountInString(p); n != PreviewLen || !utf8.ValidString(p) {
			t.Errorf("preview of %.40q...: %d characters, valid %v", raw, n, utf8.ValidString(p))
		}
	}
	// HTML whose text starts past what is kept of the part: no preview
	// rather than markup.
	raw := "Content-Type: text/html\r\n\r\n<style>" + strings.Repeat("p{}", maxPreviewRaw) + "</style><p>late</p>\r\n"
	if p := parse(t, raw).Preview; p != "" {
		t.Errorf("preview of HTML with a huge style sheet = %q, want none", p)
	}
	// Hostile nesting: multiparts far past MaxDepth, the text at the
	// bottom; the walk stays bounded and the preview has no markup.
	var b strings.Builder
	for i := range 5 * MaxDepth {
		b.WriteString("Content-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\r\n\r\n--b" + strconv.Itoa(i) + "\r\n")
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ndeep text\r\n")
	sum := parse(t, b.String())
	if strings.Contains(sum.Preview, "--b") || strings.Contains(sum.Preview, "Content-Type") {
		t.Errorf("preview of a deep nesting = %q", sum.Preview)
	}
}

func TestPreviewRoundTrip(t *testing.T) {
	sum := parse(t, "Content-Type: text/plain\r\n\r\nQuote \" and <tag> kept\r\n")
	got, err := Unmarshal(sum.Marshal())
	if err != nil || got.Preview != `Quote " and <tag> kept` {
		t.Fatalf("Unmarshal(Marshal()).Preview = %q, %v", got.Preview, err)
	}
	if hdr, _, err := UnmarshalHeader(sum.Marshal()); err != nil || string(hdr) != string(sum.Header) {
		t.Fatalf("UnmarshalHeader with a preview = %q, %v", hdr, err)
	}
	// A summary kept before previews decodes, with none.
	old, err := Unmarshal([]byte(`{"s":1,"l":1,"hs":0,"e":{},"b":{"type":"text","subtype":"plain","size":1}}`))
	if err != nil || old.Preview != "" {
		t.Fatalf("old summary: %+v, %v", old, err)
	}
}
