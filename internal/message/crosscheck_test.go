package message

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"
)

// samples returns the sample messages of testdata/samples by file name.
func samples(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/samples/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestCrossCheckGoIMAP compares the streaming parser with go-imap's
// in-memory imapserver.ExtractBodyStructure and ExtractEnvelope.
func TestCrossCheckGoIMAP(t *testing.T) {
	for name, raw := range samples(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Parse(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			want := normBS(imapserver.ExtractBodyStructure(bytes.NewReader(raw)))
			got := normBS(s.IMAPBodyStructure(true))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("BODYSTRUCTURE differs\n got: %s\nwant: %s", dump(got), dump(want))
			}
			h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
			wantEnv := normEnv(imapserver.ExtractEnvelope(h))
			gotEnv := normEnv(s.IMAPEnvelope())
			if !gotEnv.Date.Equal(wantEnv.Date) {
				t.Errorf("Date = %v, want %v", gotEnv.Date, wantEnv.Date)
			}
			gotEnv.Date = wantEnv.Date
			if !reflect.DeepEqual(gotEnv, wantEnv) {
				t.Errorf("ENVELOPE differs\n got: %+v\nwant: %+v", gotEnv, wantEnv)
			}
			if s.Size != int64(len(raw)) || s.Lines != int64(bytes.Count(raw, []byte("\n"))) {
				t.Errorf("Size, Lines = %d, %d; want %d, %d", s.Size, s.Lines, len(raw), bytes.Count(raw, []byte("\n")))
			}
		})
	}
}

// normBS makes equal structures compare equal with reflect.DeepEqual:
// go-imap keeps the encoding as written (its writer lower-cases it) and
// uses empty and nil maps and slices interchangeably.
func normBS(bs imap.BodyStructure) imap.BodyStructure {
	switch bs := bs.(type) {
	case *imap.BodyStructureSinglePart:
		c := *bs
		c.Encoding = strings.ToLower(c.Encoding)
		c.Params = normMap(c.Params)
		if c.MessageRFC822 != nil {
			m := *c.MessageRFC822
			env := normEnv(m.Envelope)
			m.Envelope = &env
			m.BodyStructure = normBS(m.BodyStructure)
			c.MessageRFC822 = &m
		}
		if c.Extended != nil {
			e := *c.Extended
			e.Disposition = normDisp(e.Disposition)
			e.Language = normSlice(e.Language)
			c.Extended = &e
		}
		return &c
	case *imap.BodyStructureMultiPart:
		c := *bs
		c.Children = nil
		for _, ch := range bs.Children {
			c.Children = append(c.Children, normBS(ch))
		}
		if c.Extended != nil {
			e := *c.Extended
			e.Params = normMap(e.Params)
			e.Disposition = normDisp(e.Disposition)
			e.Language = normSlice(e.Language)
			c.Extended = &e
		}
		return &c
	}
	return bs
}

func normEnv(e *imap.Envelope) imap.Envelope {
	if e == nil {
		return imap.Envelope{}
	}
	c := *e
	c.InReplyTo = normSlice(c.InReplyTo)
	for _, l := range []*[]imap.Address{&c.From, &c.Sender, &c.ReplyTo, &c.To, &c.Cc, &c.Bcc} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	if !c.Date.IsZero() {
		c.Date = c.Date.UTC()
	}
	return c
}

func normDisp(d *imap.BodyStructureDisposition) *imap.BodyStructureDisposition {
	if d == nil {
		return nil
	}
	c := *d
	c.Params = normMap(c.Params)
	return &c
}

func normMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func normSlice(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
