package growthtest

import (
	"bytes"
	"fmt"
	"strings"
)

// head is the start of every message: what a parser needs to go on.
const head = "From: Sender <bob@sender.example>\r\n" +
	"Date: Tue, 4 Jun 2024 11:59:58 +0200\r\n" +
	"Message-ID: <m1@sender.example>\r\n"

// Sizes at which shapes are measured (n; the larger input is 8n). A shape
// whose size is one buffer (a long line, or a field that readers unfold
// into one: the DKIM signer does) is measured where 8n stays within
// Go's small allocation classes (32 KiB): past them, under the race
// detector, a byte of a large allocation costs several times a byte of a
// small one, which would read as superlinear growth. The others are
// measured larger, where the cost of each level or part is outweighed by
// the bytes a superlinear parser reads again.
const (
	nBuffer    = 4 << 10
	nStructure = 16 << 10
)

// Messages are the adversarial message shapes: each makes a message of
// about n bytes whose size is all in one construct.
func Messages() []Shape {
	return []Shape{
		{"folded header", FoldedHeader, nStructure},
		{"many header fields", ManyFields, nStructure},
		{"long header line", LongHeaderLine, nBuffer},
		{"many recipients", ManyRecipients, nBuffer},
		{"folded recipients", FoldedRecipients, nBuffer},
		{"many authors", ManyAuthors, nBuffer},
		{"long body line", LongBodyLine, nBuffer},
		{"many body lines", ManyBodyLines, nStructure},
		{"deep nesting", DeepNesting, nStructure},
		{"many parts", ManyParts, nStructure},
	}
}

// FoldedHeader is a Subject: field folded over n/4 lines (the 300,000
// lines of a 1.2 MB message).
func FoldedHeader(n int) []byte {
	return []byte(head + "Subject: s\r\n" + strings.Repeat(" x\r\n", n/4) + "\r\nbody\r\n")
}

// ManyFields is a header of n/8 short fields.
func ManyFields(n int) []byte {
	return []byte(head + strings.Repeat("X-F: v\r\n", n/8) + "Subject: s\r\n\r\nbody\r\n")
}

// LongHeaderLine is a Subject: field of one line of n bytes.
func LongHeaderLine(n int) []byte {
	return []byte(head + "Subject: " + strings.Repeat("a", n) + "\r\n\r\nbody\r\n")
}

// ManyRecipients is a To: field of n/20 addresses on one line.
func ManyRecipients(n int) []byte {
	return []byte(head + "To: " + addresses(n/20, ", ") + "\r\nSubject: s\r\n\r\nbody\r\n")
}

// FoldedRecipients is a To: field of n/20 addresses, one per line.
func FoldedRecipients(n int) []byte {
	return []byte(head + "To: " + addresses(n/20, ",\r\n ") + "\r\nSubject: s\r\n\r\nbody\r\n")
}

// ManyAuthors is a From: field of n/20 addresses on one line, the field
// that DMARC and the send-as check parse.
func ManyAuthors(n int) []byte {
	return []byte("From: " + addresses(n/20, ", ") + "\r\nSubject: s\r\n\r\nbody\r\n")
}

func addresses(count int, sep string) string {
	var b strings.Builder
	for i := range count {
		if i > 0 {
			b.WriteString(sep)
		}
		fmt.Fprintf(&b, "u%06d@example.com", i)
	}
	return b.String()
}

// LongBodyLine is a body of one line of n bytes with spaces, the kind
// that relaxed canonicalization and line readers work on.
func LongBodyLine(n int) []byte {
	return []byte(head + "Subject: s\r\n\r\n" + strings.Repeat("ab  ", n/4) + "\r\n")
}

// ManyBodyLines is a body of n/2 empty lines.
func ManyBodyLines(n int) []byte {
	return []byte(head + "Subject: s\r\n\r\n" + strings.Repeat("\r\n", n/2) + "x\r\n")
}

// DeepNesting is a multipart nested about n/100 levels deep, each level
// with its own boundary, a text part at the bottom.
func DeepNesting(n int) []byte {
	depth := max(1, n/100)
	var b bytes.Buffer
	b.WriteString(head + "Subject: s\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%06d\"\r\n\r\n--b%06d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nbottom\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%06d--\r\n", i)
	}
	return b.Bytes()
}

// ManyParts is a multipart of n/60 small text parts.
func ManyParts(n int) []byte {
	var b bytes.Buffer
	b.WriteString(head + "Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n")
	for range max(1, n/60) {
		b.WriteString("--b\r\nContent-Type: text/plain\r\n\r\nsome text\r\n")
	}
	b.WriteString("--b--\r\n")
	return b.Bytes()
}
