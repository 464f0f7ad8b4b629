package message

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// sectionPaths lists the IMAP part numbers of every part the summary
// describes, as Section resolves them.
func sectionPaths(p *Part, path []int, top bool, out *[][]int) {
	switch {
	case p.Type == "multipart":
		for i := range p.Parts {
			sub := append(append([]int(nil), path...), i+1)
			*out = append(*out, sub)
			sectionPaths(&p.Parts[i], sub, false, out)
		}
	case top:
		sub := []int{1}
		*out = append(*out, sub)
		if p.isMessage() && len(p.Parts) == 1 {
			sectionPaths(&p.Parts[0], sub, false, out)
		}
	case p.isMessage() && len(p.Parts) == 1:
		child := &p.Parts[0]
		if child.Type == "multipart" {
			sectionPaths(child, path, false, out)
		} else {
			sub := append(append([]int(nil), path...), 1)
			*out = append(*out, sub)
		}
	}
}

// TestSectionRanges: the body of every part, cut out of the object at the
// offset the summary records, is what go-imap's in-memory extraction of
// BODY[part] returns.
func TestSectionRanges(t *testing.T) {
	for name, raw := range samples(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Parse(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			text := imapserver.ExtractBodySection(bytes.NewReader(raw), &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText})
			if off, ok := s.BodyRange(&s.Body); !ok || !bytes.Equal(raw[off:off+s.Body.Size], text) {
				t.Errorf("BODY[TEXT] from the offset = %q\nwant %q", raw[off:off+s.Body.Size], text)
			}
			var paths [][]int
			sectionPaths(&s.Body, nil, true, &paths)
			for _, path := range paths {
				p := s.Section(path)
				if p == nil {
					t.Errorf("Section(%v) = nil", path)
					continue
				}
				off, ok := s.BodyRange(p)
				if !ok {
					t.Errorf("BodyRange(%v): no offset", path)
					continue
				}
				got := raw[off : off+p.Size]
				want := imapserver.ExtractBodySection(bytes.NewReader(raw), &imap.FetchItemBodySection{Part: path})
				if name == "missing-close.eml" && len(want) == 0 {
					// go-imap's reader gives up on a multipart without its
					// close delimiter; the offset serves the part as
					// BODYSTRUCTURE describes it.
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("BODY[%s] from the offset = %q\nwant %q", fmtPath(path), got, want)
				}
			}
		})
	}
}

// TestSectionMissing: numbers the summary does not describe.
func TestSectionMissing(t *testing.T) {
	s, err := Parse(bytes.NewReader([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b--\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]int{{0}, {2}, {1, 2}} {
		if p := s.Section(path); p != nil {
			t.Errorf("Section(%v) = %+v, want nil", path, p)
		}
	}
	if p := s.Section([]int{1}); p == nil || p.Size != 3 {
		t.Errorf("Section([1]) = %+v, want the 3-byte part", p)
	}
}

// TestBodyRangeOldSummary: a summary made before offsets were recorded
// (no "off" in its JSON) has them for the top level only.
func TestBodyRangeOldSummary(t *testing.T) {
	s, err := Parse(bytes.NewReader([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b--\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.ReplaceAll(s.Marshal(), []byte(`"off":`), []byte(`"xx":`))
	o, err := Unmarshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := o.BodyRange(o.Section([]int{1})); ok {
		t.Error("old summary: BodyRange of part 1 ok")
	}
	if off, ok := o.BodyRange(&o.Body); !ok || off != s.HeaderSize {
		t.Errorf("old summary: BodyRange of the body = %d, %v; want %d", off, ok, s.HeaderSize)
	}
}

func fmtPath(path []int) string {
	var b bytes.Buffer
	for i, n := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, n)
	}
	return b.String()
}

// TestBase64Range: the decoded bytes at any offset of a base64 body with a
// regular layout come from the range Base64Range names.
func TestBase64Range(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{3}))
	for _, tc := range []struct {
		width int
		nl    string
		size  int
	}{{76, "\r\n", 10000}, {64, "\n", 3001}, {76, "\r\n", 57 * 3}, {4, "\r\n", 7}} {
		data := make([]byte, tc.size)
		for i := range data {
			data[i] = byte(rng.UintN(256))
		}
		enc := base64.StdEncoding.EncodeToString(data)
		var body strings.Builder
		for len(enc) > tc.width {
			body.WriteString(enc[:tc.width] + tc.nl)
			enc = enc[tc.width:]
		}
		body.WriteString(enc)
		raw := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body.String() + "\r\n--b--\r\n"
		s, err := Parse(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		p := s.Section([]int{1})
		if p.B64Line != tc.width || p.B64Term != len(tc.nl) {
			t.Fatalf("layout of %d-character lines = %d, %d", tc.width, p.B64Line, p.B64Term)
		}
		b := raw[p.Off : p.Off+p.Size]
		for range 200 {
			off := rng.Int64N(int64(tc.size))
			n := 1 + rng.Int64N(int64(tc.size))
			start, end, skip, ok := p.Base64Range(off, n)
			if !ok {
				t.Fatal("Base64Range not ok")
			}
			dec, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, strings.NewReader(b[start:end])))
			if err != nil {
				t.Fatalf("decoding [%d, %d) for <%d.%d>: %v", start, end, off, n, err)
			}
			want := data[off:min(off+n, int64(tc.size))]
			if got := dec[skip:min(skip+n, int64(len(dec)))]; !bytes.Equal(got, want) {
				t.Fatalf("%d-character lines, <%d.%d>: got %d bytes, not the %d wanted", tc.width, off, n, len(got), len(want))
			}
		}
	}
	// Irregular layouts are not recorded.
	for _, body := range []string{"QUJD\r\nREVG\r\nR0g=\r\n\r\nSUo=", "QUJDREVG\r\nR0g=\r\nSUpL", "QUJD REVG", "QUJDRA\r\nRUZH"} {
		raw := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body + "\r\n--b--\r\n"
		s, err := Parse(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if p := s.Section([]int{1}); p.B64Line != 0 {
			t.Errorf("layout of %q recorded: %d, %d", body, p.B64Line, p.B64Term)
		}
	}
}
