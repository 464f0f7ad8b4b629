package wire

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// internalDate is the form of date-time (RFC 9051 section 9).
const internalDate = "02-Jan-2006 15:04:05 -0700"

// FetchResponse writes one "* n FETCH (...)" response, item by item.
type FetchResponse struct{ w *Writer }

// Fetch begins "* seq FETCH (".
func (w *Writer) Fetch(seq uint32) FetchResponse {
	w.Start().Number(seq).Atom("FETCH").BeginList()
	return FetchResponse{w}
}

// End closes the response.
func (f FetchResponse) End() {
	f.w.EndList()
	f.w.End()
}

// UID writes UID n.
func (f FetchResponse) UID(uid uint32) { f.w.Atom("UID").Number(uid) }

// Flags writes FLAGS (...).
func (f FetchResponse) Flags(flags []string) { f.w.Atom("FLAGS").Flags(flags) }

// ModSeq writes MODSEQ (n) (RFC 7162 section 3.1.4.1).
func (f FetchResponse) ModSeq(n uint64) { f.w.Atom("MODSEQ").BeginList().Number64(n).EndList() }

// InternalDate writes INTERNALDATE "dd-Mon-yyyy hh:mm:ss +zzzz".
func (f FetchResponse) InternalDate(t time.Time) {
	f.w.Atom("INTERNALDATE").Quoted(t.Format(internalDate))
}

// SaveDate writes SAVEDATE (RFC 8514), NIL for a zero time.
func (f FetchResponse) SaveDate(t time.Time) {
	f.w.Atom("SAVEDATE")
	if t.IsZero() {
		f.w.Nil()
		return
	}
	f.w.Quoted(t.Format(internalDate))
}

// Size writes RFC822.SIZE n.
func (f FetchResponse) Size(n int64) { f.w.Atom("RFC822.SIZE").Number64(uint64(max(n, 0))) }

// Envelope writes ENVELOPE (...).
func (f FetchResponse) Envelope(env *imap.Envelope) { f.w.Atom("ENVELOPE").Envelope(env) }

// EnvelopeRouted writes ENVELOPE with the source routes of its addresses
// (see Routes).
func (f FetchResponse) EnvelopeRouted(env *imap.Envelope, routes *Routes) {
	f.w.Atom("ENVELOPE").EnvelopeRouted(env, routes)
}

// BodyStructure writes BODYSTRUCTURE (...) with extended, BODY (...) without.
func (f FetchResponse) BodyStructure(bs imap.BodyStructure, extended bool) {
	if extended {
		f.w.Atom("BODYSTRUCTURE")
	} else {
		f.w.Atom("BODY")
	}
	f.w.BodyStructure(bs, extended)
}

// BinarySize writes BINARY.SIZE[part] n (RFC 3516 section 4.2).
func (f FetchResponse) BinarySize(part []uint32, n int64) {
	f.w.Atom("BINARY.SIZE[" + partString(part) + "]").Number64(uint64(max(n, 0)))
}

// Preview writes PREVIEW "text" (RFC 8970 section 3), "" for a message
// without text.
func (f FetchResponse) Preview(text string) {
	f.w.Atom("PREVIEW").String(text)
}

// ObjectID writes EMAILID (id) or THREADID (id) (RFC 8474 section 5);
// an empty THREADID is NIL.
func (f FetchResponse) ObjectID(name, id string) {
	f.w.Atom(name)
	if id == "" {
		f.w.Nil()
		return
	}
	f.w.BeginList().Atom(id).EndList()
}

// Section writes the data of a body item: RFC822, RFC822.HEADER,
// RFC822.TEXT, BODY[section]<origin> or BINARY[part]<origin>, as it was
// asked for. data is what the item returns, already cut to the partial
// range; nil writes NIL. Binary data with a NUL byte goes in a literal8
// (RFC 3516 section 4.3), anything else in a literal.
func (f FetchResponse) Section(it FetchItem, data []byte) {
	f.w.Atom(it.ResponseName())
	if data == nil {
		f.w.Nil()
		return
	}
	if it.Name == "BINARY" && hasNUL(data) {
		f.w.Literal8(data)
		return
	}
	f.w.Literal(data)
}

// SectionFrom is Section with the data streamed from r (n bytes); binary
// says whether the data may hold NUL bytes (a BINARY item whose decoded
// part is not known to be free of them), which makes it a literal8.
func (f FetchResponse) SectionFrom(it FetchItem, r io.Reader, n int64, binary bool) error {
	f.w.Atom(it.ResponseName())
	f.w.LiteralHeader(n, binary && it.Name == "BINARY")
	return f.w.LiteralData(r, n)
}

func hasNUL(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}

// ResponseName is the item's name in a FETCH response: the section as
// asked, without .PEEK, and with only the origin of a partial range
// (RFC 9051 section 7.5.2: BODY[section]<origin>).
func (it FetchItem) ResponseName() string {
	if it.Section == nil {
		return it.Name
	}
	var b strings.Builder
	b.WriteString(it.Name)
	b.WriteByte('[')
	s := it.Section
	b.WriteString(partString(s.Part))
	if s.Specifier != "" {
		if len(s.Part) > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Specifier)
		if s.Fields != nil {
			b.WriteString(" (")
			for i, f := range s.Fields {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(astringForm(f))
			}
			b.WriteByte(')')
		}
	}
	b.WriteByte(']')
	if it.Partial != nil {
		b.WriteByte('<')
		b.WriteString(strconv.FormatUint(it.Partial.Offset, 10))
		b.WriteByte('>')
	}
	return b.String()
}

func partString(part []uint32) string {
	var b strings.Builder
	for i, n := range part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(n), 10))
	}
	return b.String()
}

// astringForm is s as an atom if it can be one, else quoted. Header field
// names are printable ASCII without ":" (RFC 5322 section 3.6.8), so a
// quoted string always does.
func astringForm(s string) string {
	ok := s != ""
	for i := 0; i < len(s) && ok; i++ {
		ok = isAstringChar(s[i])
	}
	if ok {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
