package message

import (
	"bytes"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapserver"
)

// benchMessage is a multipart message of about size bytes: a text part and
// a base64 attachment.
func benchMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: =?utf-8?q?r=C3=A9sum=C3=A9?=\r\n" +
		"Date: Tue, 4 Jun 2024 11:59:58 +0200\r\nMessage-ID: <b@example.org>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"bench\"\r\n\r\n" +
		"--bench\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("Some text in a line.\r\n", 20) +
		"--bench\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=a.pdf\r\n\r\n")
	line := strings.Repeat("QUJD", 19) + "\r\n"
	for b.Len() < size-len("--bench--\r\n") {
		b.WriteString(line)
	}
	b.WriteString("--bench--\r\n")
	return b.Bytes()
}

func benchmarkParse(b *testing.B, size int) {
	raw := benchMessage(size)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse10KiB(b *testing.B) { benchmarkParse(b, 10<<10) }
func BenchmarkParse1MiB(b *testing.B)  { benchmarkParse(b, 1<<20) }

// BenchmarkGoIMAPExtract1MiB is go-imap's in-memory extraction, for comparison.
func BenchmarkGoIMAPExtract1MiB(b *testing.B) {
	raw := benchMessage(1 << 20)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		_ = imapserver.ExtractBodyStructure(bytes.NewReader(raw))
	}
}

func TestUnmarshalHeader(t *testing.T) {
	sum, err := Parse(bytes.NewReader(benchMessage(4 << 10)))
	if err != nil {
		t.Fatal(err)
	}
	hdr, size, err := UnmarshalHeader(sum.Marshal())
	if err != nil || !bytes.Equal(hdr, sum.Header) || size != sum.HeaderSize || size == 0 {
		t.Fatalf("UnmarshalHeader = %q, %d, %v; summary has %q, %d", hdr, size, err, sum.Header, sum.HeaderSize)
	}
	if _, _, err := UnmarshalHeader([]byte("{not json")); err == nil {
		t.Fatal("no error for a broken summary")
	}
	// Not in Marshal's shape: the decoder reads them.
	for in, want := range map[string]string{
		`{"s":1,"hs":0,"e":{}}`:                           "",
		`{"s": 1, "h": "QQ==", "hs": 1, "e": {}}`:         "A",
		`{"e":{"subject":",\"hs\":9"},"h":"QQ==","hs":1}`: "A",
		`{"s":1,"hs":1,"h":"QQ==","e":{}}`:                "A",
	} {
		hdr, _, err := UnmarshalHeader([]byte(in))
		if err != nil || string(hdr) != want {
			t.Errorf("UnmarshalHeader(%s) = %q, %v; want %q", in, hdr, err, want)
		}
	}
	if _, _, err := UnmarshalHeader([]byte(`{"s":1,"h":"Q!==","hs":1,"e":{}}`)); err == nil {
		t.Error("no error for a header that is not base64")
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	sum, _ := Parse(bytes.NewReader(benchMessage(10 << 10)))
	enc := sum.Marshal()
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
			if _, err := Unmarshal(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("header", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := UnmarshalHeader(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// altMessage is a multipart/alternative message of about 5 KB, as the
// search benchmarks deliver: some 2 KB of text, and the same as HTML.
func altMessage() []byte {
	var text strings.Builder
	for i := 0; text.Len() < 2000; i++ {
		text.WriteString("Some Words of a Budget Report, line ")
		text.WriteString(strings.Repeat("x", i%7))
		text.WriteString("\r\n")
	}
	return []byte("From: Sender <s@example.net>\r\nTo: alice@example.org\r\nSubject: The budget\r\n" +
		"Date: Tue, 4 Jun 2024 11:59:58 +0200\r\nMessage-ID: <c@example.net>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=alt\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text.String() +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" +
		strings.ReplaceAll(text.String(), "\r\n", "<br>\r\n") + "</p></body></html>\r\n--alt--\r\n")
}

// BenchmarkExtractText is the search text of altMessage, read from a
// stream (ExtractText) and from memory (ExtractTextBytes, the worker's).
func BenchmarkExtractText(b *testing.B) {
	raw := altMessage()
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ExtractText(bytes.NewReader(raw), IndexLimits); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bytes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ExtractTextBytes(raw, IndexLimits)
		}
	})
}

// BenchmarkParseAlternative is Parse of altMessage (which makes its
// preview too).
func BenchmarkParseAlternative(b *testing.B) {
	raw := altMessage()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}
