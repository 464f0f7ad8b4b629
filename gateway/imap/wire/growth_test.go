package wire

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// repeatTo repeats unit after prefix to about n bytes, then adds suffix.
func repeatTo(prefix, unit, suffix string) func(n int) []byte {
	return func(n int) []byte {
		return []byte(prefix + strings.Repeat(unit, max(n/len(unit), 1)) + suffix)
	}
}

// TestGrowth: the reader's cost grows linearly with a command's size,
// whatever shape its size has (invariant 9). The units are long enough
// that what the reader makes of 8n bytes stays within Go's small
// allocation classes (see growthtest's sizes): a search key is about 160
// bytes, a string 16.
func TestGrowth(t *testing.T) {
	const n = 4 << 10 // 8n stays within the line cap and wire.MaxSearchKeys
	field := strings.Repeat("x", 24)
	shapes := []growthtest.Shape{
		{Name: "many search keys", Make: repeatTo("a SEARCH ALL", " SUBJECT "+strings.Repeat("s", 200), "\r\n"), N: n},
		{Name: "nested search keys", Make: repeatTo("a SEARCH ALL", " OR (SEEN SUBJECT "+strings.Repeat("s", 200)+") NOT (NEW FROM "+strings.Repeat("s", 200)+")", "\r\n"), N: n},
		{Name: "long sequence set", Make: repeatTo("a FETCH 1", ",100000:200000", " FLAGS\r\n"), N: n},
		{Name: "many fetch items", Make: repeatTo("a FETCH 1 (UID", " BODY.PEEK[1.2.HEADER.FIELDS (A B)]<0.1>", ")\r\n"), N: n},
		{Name: "quoted string with escapes", Make: repeatTo(`a LOGIN "`, `\"\\`, "\" x\r\n"), N: n / 2},
		{Name: "many literals", Make: repeatTo("a FETCH 1 BODY[HEADER.FIELDS (A", " {24+}\r\n"+field, ")]\r\n"), N: n},
		{Name: "many literals of a failed command", Make: repeatTo("a XYZZY", " {1+}\r\nx", "\r\n"), N: n},
		{Name: "many flags", Make: repeatTo("a STORE 1 +FLAGS (\\Seen", " $"+field, ")\r\n"), N: n},
		{Name: "many list patterns", Make: repeatTo(`a LIST "" (INBOX`, " %/"+field, ")\r\n"), N: n},
	}
	for _, shape := range shapes {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(in []byte) {
				r := NewReader(bufio.NewReader(bytes.NewReader(in)), Limits{}, nil)
				if _, err := r.ReadCommand(); err != nil && !strings.HasPrefix(shape.Name, "many literals of a failed") {
					t.Fatalf("%s: %v", shape.Name, err)
				}
			})
		})
	}
}
