package imapgw

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/growthtest"
	"github.com/bucketmail/bucketmail/internal/message"
)

// nested wraps a text part in depth multiparts.
func nested(depth int, text string) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + text + "\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

func TestSearchDepthCap(t *testing.T) {
	// "aGVsbG8gd29ybGQ=" is "hello world" in base64.
	within := nested(message.MaxDepth-1, "aGVsbG8gd29ybGQ=")
	if !matchEntity(within, "HELLO world", false) {
		t.Fatal("decoded text within the depth limit not found")
	}
	// Past the limit the part is searched as it is: its encoded text
	// and its header are found, its decoded text is not.
	deep := nested(message.MaxDepth+8, "aGVsbG8gd29ybGQ=")
	if matchEntity(deep, "hello world", false) {
		t.Fatal("decoded text past the depth limit found")
	}
	if !matchEntity(deep, "aGVsbG8gd29ybGQ=", false) || !matchEntity(deep, "text/plain", false) {
		t.Fatal("raw text past the depth limit not found")
	}
	if !matchEntity(growthtest.DeepNesting(1_000_000), "bottom", true) {
		t.Fatal("text of a message nested 10,000 deep not found")
	}
}

func TestSectionDepthCap(t *testing.T) {
	raw := nested(message.MaxDepth+8, "aGVsbG8gd29ybGQ=")
	sec := func(n int) *imap.FetchItemBodySection {
		s := &imap.FetchItemBodySection{Part: make([]int, n)}
		for i := range s.Part {
			s.Part[i] = 1
		}
		return s
	}
	if got := extractSection(raw, sec(message.MaxDepth)); !bytes.Contains(got, []byte("--b32")) {
		t.Fatalf("part at the depth limit: %q", got)
	}
	if got := extractSection(raw, sec(message.MaxDepth+1)); got != nil {
		t.Fatalf("part past the depth limit: %q", got)
	}
}
