package message

import (
	"bytes"
	"io"

	"github.com/emersion/go-message/textproto"
)

// Limits of the MIME tree kept in a summary. Deeper or further parts are
// still delimited correctly but not described: their bytes count towards
// the part that holds them.
const (
	MaxDepth = 32   // nesting of multipart and message/rfc822 entities
	MaxParts = 1000 // entities in one message
)

// Parse reads a raw message from r, to its end, and returns its summary.
// It streams: memory use is bounded whatever the message size. It never
// fails on a malformed message (a best-effort summary is made) and returns
// an error only when r does.
func Parse(r io.Reader) (*Summary, error) {
	p := &parser{lr: newLineReader(r), budget: maxFields}
	s := &Summary{}
	p.raw = &s.Header
	p.lr.next()
	body, h, _ := p.entity(0, false)
	if err := p.lr.readErr(); err != nil {
		return nil, err
	}
	s.Size, s.Lines = p.lr.off, p.lr.nl
	s.HeaderSize = p.topBody
	s.Body = body
	s.Envelope = newEnvelope(h)
	s.Date = parseDate(h.Get("Date"))
	s.Preview = p.pv.preview()
	if len(s.Header) == 0 {
		s.Header = nil
	}
	return s, nil
}

// parser walks the lines of a message once, keeping a stack of the
// boundaries of the multiparts it is in (RFC 2046 section 5.1.1). A line that
// is a delimiter of any open multipart ends every entity nested inside it,
// which is how broken nesting resynchronises.
type parser struct {
	lr      *lineReader
	bounds  [][]byte // boundaries of the open multiparts, outermost first
	parts   int      // entities seen
	budget  int      // bytes left for header field values
	raw     *[]byte  // collects the top-level header block until it is done
	topBody int64    // offset of the top-level body
	pv      previewer
}

// entity parses one entity (header and body) starting at the current line,
// up to a boundary of an enclosing multipart or the end of input. kept is
// false when the part limit was reached and the entity is not described.
func (p *parser) entity(depth int, inDigest bool) (part Part, h textproto.Header, kept bool) {
	p.parts++
	kept = p.parts <= MaxParts
	h = p.header()
	part = newPart(h, inDigest)
	bodyStart, bodyNL := p.lr.start, p.lr.startNL
	if depth == 0 {
		p.topBody = bodyStart
	}
	deeper := kept && depth < MaxDepth && p.parts < MaxParts
	switch {
	case deeper && part.Type == "multipart":
		p.multipart(&part, depth)
	case deeper && part.isMessage():
		p.pv.enclosed++
		child, ch, _ := p.entity(depth+1, false)
		p.pv.enclosed--
		env := newEnvelope(ch)
		part.Envelope = &env
		part.Parts = []Part{child}
	case kept && part.Encoding == "base64":
		p.pv.start(&part)
		p.skipBase64(&part)
	default:
		if kept {
			p.pv.start(&part)
		}
		p.skip()
	}
	p.finish(&part, bodyStart, bodyNL)
	p.pv.end(&part)
	return part, h, kept
}

// header consumes the header block of an entity and returns its wanted
// fields. The block ends after an empty line, at the end of input, or
// (broken MIME) before a boundary line.
func (p *parser) header() textproto.Header {
	hr := headerReader{budget: &p.budget}
	for l := p.lr; !l.eof; l.next() {
		if lvl, _ := p.boundary(); lvl >= 0 {
			break
		}
		p.keepRaw()
		if len(l.text) == 0 && !l.long {
			l.next()
			break
		}
		hr.line(l.text)
	}
	hr.flush()
	p.raw = nil // only the first (top-level) header block is kept raw
	return hr.h
}

// keepRaw appends the current line to the top-level header block while the
// block fits in MaxHeader; it keeps whole lines only.
func (p *parser) keepRaw() {
	if p.raw == nil {
		return
	}
	l := p.lr
	n := len(*p.raw) + len(l.text) + l.term
	if l.long || n > MaxHeader {
		p.raw = nil
		return
	}
	*p.raw = append(*p.raw, l.text...)
	*p.raw = append(*p.raw, "\r\n"[2-l.term:]...)
}

// multipart parses the body of a multipart entity: preamble, parts
// delimited by the boundary, epilogue.
func (p *parser) multipart(part *Part, depth int) {
	level := len(p.bounds)
	p.bounds = append(p.bounds, []byte(part.Params["boundary"]))
	digest := part.Subtype == "digest"
	for !p.lr.eof {
		lvl, closing := p.boundary()
		switch {
		case lvl < 0: // preamble
			p.lr.next()
			continue
		case lvl < level: // an enclosing multipart goes on: this one is over
			p.bounds = p.bounds[:level]
			return
		case closing:
			p.lr.next()
			p.bounds = p.bounds[:level]
			p.skip() // epilogue
			return
		}
		p.lr.next()
		child, _, kept := p.entity(depth+1, digest)
		if kept {
			part.Parts = append(part.Parts, child)
		}
	}
	p.bounds = p.bounds[:level]
}

// skip consumes body lines up to a boundary line of an open multipart.
func (p *parser) skip() {
	for !p.lr.eof {
		if lvl, _ := p.boundary(); lvl >= 0 {
			return
		}
		p.pv.line(p.lr.text)
		p.lr.next()
	}
}

// skipBase64 is skip for a base64 body, noting its line layout when every
// line but the last has the same length, a multiple of 4, and terminator
// (see Part.B64Line).
func (p *parser) skipBase64(part *Part) {
	var (
		width, term int
		lines       int
		short       bool // the last line seen was shorter: it must be the last
		uniform     = true
	)
	for l := p.lr; !l.eof; l.next() {
		if lvl, _ := p.boundary(); lvl >= 0 {
			break
		}
		p.pv.line(l.text)
		if !uniform {
			continue
		}
		n := len(l.text)
		switch {
		case short || l.long || !base64Line(l.text):
			uniform = false
		case lines == 0:
			width, term = n, l.term
		case n == width && l.term == term:
		case n < width || n == width && l.term == 0: // the end of input
			short = true
		default:
			uniform = false
		}
		lines++
	}
	if uniform && width > 0 && width%4 == 0 && term > 0 {
		part.B64Line, part.B64Term = width, term
	}
}

// base64Line reports whether b holds only base64 characters.
func base64Line(b []byte) bool {
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// finish sets the size and line count of a body that started at bodyStart
// and ends at the current line. The line break before a boundary line
// belongs to the boundary (RFC 2046 section 5.1.1), not to the body. A part
// cut short by the end of input loses its last line break too, as with Go's
// multipart reader, which holds it back as a possible boundary's.
func (p *parser) finish(part *Part, bodyStart, bodyNL int64) {
	l := p.lr
	end, endNL := l.start, l.startNL
	if (!l.eof || len(p.bounds) > 0) && l.prevTerm > 0 {
		end -= int64(l.prevTerm)
		endNL--
	}
	if end < bodyStart {
		end, endNL = bodyStart, bodyNL
	}
	part.Off, part.Size = bodyStart, end-bodyStart
	if part.Type == "text" || part.isMessage() {
		part.Lines = endNL - bodyNL
	}
}

// boundary reports whether the current line is a boundary line of an open
// multipart: its level (innermost wins), and whether it is the close
// delimiter "--boundary--". It returns -1 for other lines.
func (p *parser) boundary() (level int, closing bool) {
	t := p.lr.text
	if len(p.bounds) == 0 || len(t) < 2 || t[0] != '-' || t[1] != '-' {
		return -1, false
	}
	t = t[2:]
	for i := len(p.bounds) - 1; i >= 0; i-- {
		rest, ok := bytes.CutPrefix(t, p.bounds[i])
		if !ok {
			continue
		}
		if len(bytes.TrimRight(rest, " \t\r")) == 0 {
			return i, false
		}
		if bytes.HasPrefix(rest, []byte("--")) {
			return i, true
		}
	}
	return -1, false
}
