package pop3

import (
	"bytes"
	"strings"
	"testing"
)

// unstuff undoes the dot-stuffing of a multi-line response body that ends
// with ".\r\n", as a client does (RFC 1939 section 3).
func unstuff(t testing.TB, b []byte) []byte {
	t.Helper()
	if !bytes.HasSuffix(b, []byte(".\r\n")) {
		t.Fatalf("no end mark in %q", b)
	}
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\r\n")) {
		if string(l) == ".\r\n" {
			return out
		}
		out = append(out, bytes.TrimPrefix(l, []byte("."))...)
	}
	t.Fatalf("no end line in %q", b)
	return nil
}

// normalize turns bare LF into CRLF and ends the text with CRLF.
func normalize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	out := b.String()
	if out != "" && !strings.HasSuffix(out, "\r\n") {
		out += "\r\n"
	}
	return out
}

func stuff(t testing.TB, chunks ...string) []byte {
	var buf bytes.Buffer
	dw := newDotWriter(&buf)
	for _, c := range chunks {
		if _, err := dw.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDotWriter(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{""}, ".\r\n"},
		{[]string{"a\r\nb\r\n"}, "a\r\nb\r\n.\r\n"},
		{[]string{".\r\n..x\r\n"}, "..\r\n...x\r\n.\r\n"},
		{[]string{"a\nb"}, "a\r\nb\r\n.\r\n"},
		{[]string{"a\r", "\n.", "b\n"}, "a\r\n..b\r\n.\r\n"},
		{[]string{"a\r\n", ".", "\r\n"}, "a\r\n..\r\n.\r\n"},
		{[]string{"a.b\r\n"}, "a.b\r\n.\r\n"},
	}
	for _, tt := range tests {
		if got := string(stuff(t, tt.in...)); got != tt.want {
			t.Errorf("stuff(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzDotWriter(f *testing.F) {
	f.Add("Subject: x\r\n\r\n.\r\n..\r\nend", 3)
	f.Add(".a\n.b\r\n\n", 1)
	f.Fuzz(func(t *testing.T, in string, split int) {
		var chunks []string
		if split > 0 && split < len(in) {
			chunks = []string{in[:split], in[split:]}
		} else {
			chunks = []string{in}
		}
		out := stuff(t, chunks...)
		if got, want := string(unstuff(t, out)), normalize(in); got != want {
			t.Fatalf("unstuff(stuff(%q)) = %q, want %q", in, got, want)
		}
	})
}

func top(t *testing.T, msg string, lines int) string {
	var buf bytes.Buffer
	tw := newTopWriter(&buf, lines)
	for i := 0; i < len(msg); i++ { // byte by byte: state crosses writes
		_, err := tw.Write([]byte{msg[i]})
		if err == errTopDone {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func TestTopWriter(t *testing.T) {
	msg := "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n"
	tests := []struct {
		msg   string
		lines int
		want  string
	}{
		{msg, 0, "A: 1\r\nB: 2\r\n\r\n"},
		{msg, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n"},
		{msg, 10, msg},
		{"A: 1\nB: 2\n\nl1\nl2\n", 1, "A: 1\nB: 2\n\nl1\n"},
		{"A: 1\r\n", 0, "A: 1\r\n"},
	}
	for _, tt := range tests {
		if got := top(t, tt.msg, tt.lines); got != tt.want {
			t.Errorf("top(%q, %d) = %q, want %q", tt.msg, tt.lines, got, tt.want)
		}
	}
}
