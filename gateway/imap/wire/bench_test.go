package wire

import (
	"bufio"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// repeatReader replays the same bytes forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}

// BenchmarkFetchStore parses a typical client's FETCH and STORE and writes
// their answers: a header FETCH of one message (UID, FLAGS, size, date,
// ENVELOPE, BODYSTRUCTURE and a header section, as mail clients list a
// mailbox) and a flag change.
func BenchmarkFetchStore(b *testing.B) {
	in := []byte("a1 UID FETCH 4827313 (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID References)])\r\n" +
		"a2 UID STORE 4827313 +FLAGS.SILENT (\\Seen)\r\n")
	env := &imap.Envelope{
		Date: time.Date(2024, 3, 1, 10, 11, 12, 0, time.UTC), Subject: "Quarterly figures",
		From: []imap.Address{{Name: "Joe", Mailbox: "joe", Host: "example.com"}},
		To:   []imap.Address{{Mailbox: "team", Host: "example.com"}}, MessageID: "id@example.com",
	}
	bs := &imap.BodyStructureMultiPart{Subtype: "alternative", Children: []imap.BodyStructure{
		&imap.BodyStructureSinglePart{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "utf-8"}, Encoding: "quoted-printable", Size: 1200, Text: &imap.BodyStructureText{NumLines: 30}},
		&imap.BodyStructureSinglePart{Type: "text", Subtype: "html", Params: map[string]string{"charset": "utf-8"}, Encoding: "quoted-printable", Size: 4800, Text: &imap.BodyStructureText{NumLines: 90}},
	}}
	header := []byte("From: Joe <joe@example.com>\r\nTo: team@example.com\r\nSubject: Quarterly figures\r\nDate: Fri, 1 Mar 2024 10:11:12 +0000\r\nMessage-ID: <id@example.com>\r\n\r\n")
	flags := []string{`\Seen`, `\Flagged`}
	date := time.Date(2024, 3, 1, 10, 11, 12, 0, time.UTC)

	r := NewReader(bufio.NewReader(&repeatReader{b: in}), Limits{}, nil)
	w := NewWriter(io.Discard)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		cmd, err := r.ReadCommand()
		if err != nil {
			b.Fatal(err)
		}
		f := w.Fetch(1)
		for _, it := range cmd.Args.(*Fetch).Items {
			switch it.Name {
			case "UID":
				f.UID(4827313)
			case "FLAGS":
				f.Flags(flags)
			case "RFC822.SIZE":
				f.Size(6543)
			case "INTERNALDATE":
				f.InternalDate(date)
			case "ENVELOPE":
				f.Envelope(env)
			case "BODYSTRUCTURE":
				f.BodyStructure(bs, true)
			case "BODY":
				f.Section(it, header)
			}
		}
		f.End()
		w.Status(cmd.Tag, "OK", "", "FETCH completed")
		if cmd, err = r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
		f = w.Fetch(1)
		f.UID(4827313)
		f.Flags(cmd.Args.(*Store).Flags)
		f.End()
		w.Status(cmd.Tag, "OK", "", "STORE completed")
		w.Flush()
	}
}

// BenchmarkParseFetch is the parse alone of a FETCH of one message's flags
// over a large set, as a client's sync sends it.
func BenchmarkParseFetch(b *testing.B) {
	in := []byte("a UID FETCH 1:* (UID FLAGS MODSEQ) (CHANGEDSINCE 620162338)\r\n")
	r := NewReader(bufio.NewReader(&repeatReader{b: in}), Limits{}, nil)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}
