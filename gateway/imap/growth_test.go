package imapgw

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/textproto"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// TestSearchTextGrowth: SEARCH TEXT and BODY, which walk the MIME tree of
// a message, cost time linear in the message.
func TestSearchTextGrowth(t *testing.T) {
	for _, shape := range growthtest.Messages() {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(raw []byte) {
				if matchEntity(raw, "absent", true) || matchEntity(raw, "absent", false) {
					t.Fatal("matched")
				}
			})
		})
	}
}

// TestHeaderReadGrowth: the header as SEARCH HEADER reads it, and
// BODY[HEADER.FIELDS], cost time linear in the header.
func TestHeaderReadGrowth(t *testing.T) {
	sec := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject", "To"}}
	for _, shape := range growthtest.Messages() {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(raw []byte) {
				if _, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw))); err != nil {
					t.Fatal(err)
				}
				_, _ = headerFields(raw, sec)
			})
		})
	}
}

// TestSectionGrowth: BODY[1.1.1...] down a deeply nested message costs
// time linear in the message, however long the path.
func TestSectionGrowth(t *testing.T) {
	shape := growthtest.Shape{Name: "deep nesting", Make: growthtest.DeepNesting, N: 16 << 10}
	growthtest.Linear(t, shape, func(raw []byte) {
		sec := &imap.FetchItemBodySection{Part: make([]int, bytes.Count(raw, []byte("boundary=")))}
		for i := range sec.Part {
			sec.Part[i] = 1
		}
		_ = extractSection(raw, sec)
	})
}

// TestParsedBodyStructureGrowth: the BODYSTRUCTURE of an entry without a
// usable summary costs time linear in the message.
func TestParsedBodyStructureGrowth(t *testing.T) {
	for _, shape := range growthtest.Messages() {
		t.Run(shape.Name, func(t *testing.T) {
			growthtest.Linear(t, shape, func(raw []byte) {
				_ = parsedBodyStructure(raw)
			})
		})
	}
}
