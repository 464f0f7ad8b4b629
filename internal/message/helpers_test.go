package message

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// dump renders a body structure for failure messages.
func dump(bs imap.BodyStructure) string {
	b, _ := json.MarshalIndent(bs, "", " ")
	return string(b)
}

// checkIMAP fails unless bs is something go-imap's writer and IMAP clients
// accept: multiparts have parts, messages have an envelope and a body,
// extension data is there when asked for.
func checkIMAP(t testing.TB, bs imap.BodyStructure, extended bool) {
	t.Helper()
	switch bs := bs.(type) {
	case *imap.BodyStructureMultiPart:
		if len(bs.Children) == 0 || bs.Subtype == "" || extended != (bs.Extended != nil) {
			t.Fatalf("bad multipart %+v", bs)
		}
		for _, c := range bs.Children {
			checkIMAP(t, c, extended)
		}
	case *imap.BodyStructureSinglePart:
		if bs.Type == "" || bs.Subtype == "" || extended != (bs.Extended != nil) {
			t.Fatalf("bad part %+v", bs)
		}
		switch bs.MediaType() {
		case "message/rfc822", "message/global":
			if bs.MessageRFC822 == nil || bs.MessageRFC822.Envelope == nil || bs.MessageRFC822.BodyStructure == nil {
				t.Fatalf("bad message part %+v", bs)
			}
			checkIMAP(t, bs.MessageRFC822.BodyStructure, extended)
		}
		if bs.Type == "text" && bs.Text == nil {
			t.Fatalf("text part without lines: %+v", bs)
		}
	default:
		t.Fatalf("unknown body structure %T", bs)
	}
}

// checkSummary checks what must hold for any input.
func checkSummary(t testing.TB, raw []byte, s *Summary) {
	t.Helper()
	if s.Size != int64(len(raw)) || s.Lines != int64(bytes.Count(raw, []byte("\n"))) {
		t.Fatalf("Size, Lines = %d, %d; want %d, %d", s.Size, s.Lines, len(raw), bytes.Count(raw, []byte("\n")))
	}
	if s.HeaderSize > s.Size || len(s.Header) > MaxHeader || !bytes.HasPrefix(raw, s.Header) {
		t.Fatalf("header: %d bytes kept, size %d of %d", len(s.Header), s.HeaderSize, s.Size)
	}
	if s.HeaderSize+s.Body.Size > s.Size {
		t.Fatalf("body size %d + header %d > %d", s.Body.Size, s.HeaderSize, s.Size)
	}
	checkIMAP(t, s.IMAPBodyStructure(true), true)
	checkIMAP(t, s.IMAPBodyStructure(false), false)
	_ = s.IMAPEnvelope()
	b := s.Marshal()
	s2, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if b2 := s2.Marshal(); !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	// The short way to the header must read what the decoder reads.
	hdr, size, err := UnmarshalHeader(b)
	whdr, wsize, werr := unmarshalHeaderAll(b)
	if err != nil || werr != nil || !bytes.Equal(hdr, whdr) || size != wsize {
		t.Fatalf("UnmarshalHeader = %q, %d, %v; the decoder reads %q, %d, %v", hdr, size, err, whdr, wsize, werr)
	}
}
