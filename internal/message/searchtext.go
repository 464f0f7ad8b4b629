package message

import (
	"bytes"
	"io"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	gomessage "github.com/emersion/go-message"
)

// Text is the searchable text of a message (IMAP SEARCH TEXT and BODY,
// RFC 9051 section 6.4.4), folded to lower case with strings.ToLower, so
// that a case-insensitive substring match is strings.Contains of the
// folded pattern. It is what the search index keeps and what a search
// that reads the object looks at: both make it with ExtractText, so they
// agree.
type Text struct {
	// Head holds the decoded value of every header field of the message
	// and of its MIME parts, one per line.
	Head string
	// Body holds the decoded text of the text parts (HTML reduced to
	// text) and the file names of attachments, a line break between
	// parts.
	Body string
	// Truncated is set when the limits cut Head or Body: the text is then
	// a prefix of what ExtractText with larger limits gives.
	Truncated bool
}

// TextLimits bound what ExtractText keeps, in bytes of folded text.
type TextLimits struct {
	Head int
	Body int
}

// IndexLimits is what the search index keeps of a message: the first
// 16 KiB of header text and the first 64 KiB of body text.
var IndexLimits = TextLimits{Head: 16 << 10, Body: 64 << 10}

// NoLimits keeps all the text (a search that reads the object).
var NoLimits = TextLimits{Head: math.MaxInt, Body: math.MaxInt}

// maxTopHeader is how much of a message is kept to be read as plain text
// when its header cannot be parsed.
const maxTopHeader = MaxHeader

// ExtractText reads a message from r to its end and returns its text. It
// descends multiparts and enclosed messages down to MaxDepth and describes
// at most MaxParts entities, as Parse does; quoted-printable and base64 are
// decoded and charsets converted to UTF-8 (unknown ones read as they are).
// It returns an error only when r does.
func ExtractText(r io.Reader, lim TextLimits) (Text, error) {
	x := newExtractor(lim)
	defer x.release()
	cr := &captureReader{r: r, max: maxTopHeader}
	// An unknown charset or encoding is an error that still gives an entity.
	e, _ := gomessage.Read(cr)
	cr.stop()
	if e == nil {
		if cr.err != nil {
			return Text{}, cr.err
		}
		// No usable header: the message is taken as plain text.
		rest := io.MultiReader(bytes.NewReader(cr.buf), r)
		if cr.over {
			rest = r
		}
		x.text(rest, false)
	} else {
		x.entity(e, 0)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return Text{}, err
	}
	if cr.err != nil {
		return Text{}, cr.err
	}
	return x.result(), nil
}

// ExtractTextBytes is ExtractText of a message held in memory (the
// worker's delivery of a message of ordinary size): the same text, without
// the copy of the header block that ExtractText keeps in case it cannot be
// parsed, and with the text's room reserved at once.
func ExtractTextBytes(raw []byte, lim TextLimits) Text {
	x := newExtractor(lim)
	defer x.release()
	x.body.Grow(min(len(raw), lim.Body))
	x.buf.Grow(int(min(int64(len(raw)), x.partLimit())) + bytes.MinRead)
	r := bytes.NewReader(raw)
	if e, _ := gomessage.Read(r); e == nil {
		// As ExtractText: the whole message, or when the parser took
		// more than maxTopHeader bytes, what it left.
		if read := len(raw) - r.Len(); read > maxTopHeader {
			raw = raw[read:]
		}
		x.text(bytes.NewReader(raw), false)
	} else {
		x.entity(e, 0)
	}
	return x.result()
}

func (x *extractor) result() Text {
	return Text{Head: x.head.String(), Body: x.body.String(), Truncated: x.headCut || x.bodyCut}
}

// PrefixText is the header text of an index entry's prefix lines
// (Return-Path:, Delivered-To:, Authentication-Results:), to be put
// before the object's Head.
func PrefixText(prefix []byte) string {
	if len(prefix) == 0 {
		return ""
	}
	e, _ := gomessage.Read(bytes.NewReader(append(append([]byte(nil), prefix...), "\r\n"...)))
	if e == nil {
		return ""
	}
	var b strings.Builder
	for f := e.Header.Fields(); f.Next(); {
		b.WriteString(strings.ToLower(decodeText(f.Value())))
		b.WriteByte('\n')
	}
	return b.String()
}

// extractor collects the text of one message.
type extractor struct {
	lim              TextLimits
	head, body       strings.Builder
	parts            int
	headCut, bodyCut bool          // a limit was reached: nothing more is added
	buf              *bytes.Buffer // a part's body, reused from part to part
}

// partBufs holds the part buffers of extractors, so that a worker does
// not allocate one per message it delivers; one that grew over
// maxPooledPart is left to the collector.
var partBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledPart = 256 << 10

func newExtractor(lim TextLimits) *extractor {
	return &extractor{lim: lim, buf: partBufs.Get().(*bytes.Buffer)}
}

// release gives the part buffer back; x reads no more.
func (x *extractor) release() {
	if x.buf.Cap() <= maxPooledPart {
		x.buf.Reset()
		partBufs.Put(x.buf)
	}
	x.buf = nil
}

// entity adds the header and text of e, depth levels down.
func (x *extractor) entity(e *gomessage.Entity, depth int) {
	x.parts++
	if x.parts > MaxParts {
		return
	}
	for f := e.Header.Fields(); f.Next(); {
		x.addLower(&x.head, x.lim.Head, decodeText(f.Value()))
	}
	t, params, _ := e.Header.ContentType()
	t = strings.ToLower(t)
	if name := attachmentName(e, params); name != "" {
		x.addLower(&x.body, x.lim.Body, name)
	}
	switch {
	case depth < MaxDepth && strings.HasPrefix(t, "multipart/"):
		if mr := e.MultipartReader(); mr != nil {
			for x.parts < MaxParts {
				part, err := mr.NextPart()
				if part == nil || (err != nil && !isEntityWarning(err)) {
					return
				}
				x.entity(part, depth+1)
			}
			return
		}
		x.text(e.Body, false)
	case depth < MaxDepth && (t == "message/rfc822" || t == "message/global"):
		if inner, _ := gomessage.Read(e.Body); inner != nil {
			x.entity(inner, depth+1)
		}
	case t == "" || strings.HasPrefix(t, "text/") || strings.HasPrefix(t, "multipart/") || strings.HasPrefix(t, "message/"):
		x.text(e.Body, t == "text/html")
	}
}

// isEntityWarning reports whether err still came with a usable part (an
// unknown charset or transfer encoding).
func isEntityWarning(err error) bool {
	return gomessage.IsUnknownCharset(err) || gomessage.IsUnknownEncoding(err)
}

// attachmentName is the decoded file name of a part, if it has one.
func attachmentName(e *gomessage.Entity, ctParams map[string]string) string {
	if _, p, err := e.Header.ContentDisposition(); err == nil && p["filename"] != "" {
		return decodeText(p["filename"])
	}
	return decodeText(ctParams["name"])
}

// text adds the decoded body text read from r, reduced from HTML when
// html. At most four times the body limit is read from one part.
func (x *extractor) text(r io.Reader, html bool) {
	if x.bodyCut {
		return
	}
	limit := x.partLimit()
	x.buf.Reset()
	_, _ = x.buf.ReadFrom(io.LimitReader(r, limit+1))
	b := x.buf.Bytes()
	cut := int64(len(b)) > limit
	if cut {
		b = trimPartialRune(b[:limit])
	}
	if x.body.Len() > 0 {
		x.add(&x.body, x.lim.Body, "\n")
	}
	switch {
	case html:
		x.addLower(&x.body, x.lim.Body, htmlText(cleanTextView(b), !cut))
	case utf8.Valid(b) && bytes.IndexByte(b, 0) < 0:
		// Clean already: folded straight from the buffer.
		x.addLowerBytes(b)
	default:
		x.addLower(&x.body, x.lim.Body, cleanText(b))
	}
	x.bodyCut = x.bodyCut || cut
}

// partLimit is how much of one part's body text reads.
func (x *extractor) partLimit() int64 {
	if x.lim.Body < math.MaxInt/8 {
		return int64(4 * x.lim.Body)
	}
	return math.MaxInt64 - 1
}

// addLower is add of s folded with strings.ToLower (which gives s
// itself, not a copy, when there is nothing to fold).
func (x *extractor) addLower(b *strings.Builder, limit int, s string) {
	x.add(b, limit, strings.ToLower(s))
}

// addLowerBytes adds the clean UTF-8 text b to the body, folded as
// strings.ToLower does, without making a string of all of it first: runs
// of ASCII are folded byte by byte; the rest goes through strings.ToLower
// a line at a time (which, rune by rune, gives the same).
func (x *extractor) addLowerBytes(b []byte) {
	for len(b) > 0 && !x.bodyCut {
		i := 0
		for i < len(b) && b[i] < utf8.RuneSelf {
			i++
		}
		if i > 0 {
			room := x.lim.Body - x.body.Len()
			n := min(i, max(room, 0))
			for _, c := range b[:n] {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				x.body.WriteByte(c)
			}
			if n < i {
				x.bodyCut = true
				return
			}
			b = b[i:]
			continue
		}
		j := bytes.IndexByte(b, '\n') + 1
		if j <= 0 {
			j = len(b)
		}
		x.add(&x.body, x.lim.Body, strings.ToLower(string(b[:j])))
		b = b[j:]
	}
}

// add appends s to b, cut at a character boundary so that b stays within
// limit; a line break ends a header value. Once b was cut nothing more is
// added, so that the text stays a prefix of the whole text.
func (x *extractor) add(b *strings.Builder, limit int, s string) {
	cut := &x.bodyCut
	if b == &x.head {
		s += "\n"
		cut = &x.headCut
	}
	if *cut {
		return
	}
	room := limit - b.Len()
	if len(s) > room {
		*cut = true
		if room <= 0 {
			return
		}
		for room > 0 && !utf8.RuneStart(s[room]) {
			room--
		}
		s = s[:room]
	}
	b.WriteString(s)
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b, so
// that a part cut short decodes as a prefix of the whole part.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// cleanText makes b valid UTF-8 without NUL: bytes that are not UTF-8 are
// taken as ISO-8859-1, as in header values.
func cleanText(b []byte) string {
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			r = rune(b[i])
		}
		if r == 0 {
			r = ' '
		}
		sb.WriteRune(r)
		i += n
	}
	return sb.String()
}

// cleanTextView is cleanText, but a clean b is returned as a view of
// itself, not a copy: for a caller that keeps none of it (htmlText builds
// its own string).
func cleanTextView(b []byte) string {
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return cleanText(b)
}

// captureReader keeps the first max bytes read through it, and the first
// error of r.
type captureReader struct {
	r    io.Reader
	buf  []byte
	max  int
	over bool // more than max was read: buf is dropped
	done bool
	err  error
}

// stop ends the capture.
func (c *captureReader) stop() { c.done = true }

func (c *captureReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if !c.over && !c.done {
		if len(c.buf)+n > c.max {
			c.over, c.buf = true, nil
		} else {
			c.buf = append(c.buf, p[:n]...)
		}
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// TextTee extracts the text of a message while another reader consumes it,
// so that one read of the object gives both (the worker's delivery read).
type TextTee struct {
	pw   *io.PipeWriter
	done chan textResult
}

type textResult struct {
	text Text
	err  error
}

// NewTextTee returns a reader passing r through, and the TextTee that
// extracts what is read from it. The caller reads to the end, or stops,
// and then calls Wait.
func NewTextTee(r io.Reader, lim TextLimits) (io.Reader, *TextTee) {
	pr, pw := io.Pipe()
	t := &TextTee{pw: pw, done: make(chan textResult, 1)}
	go func() {
		text, err := ExtractText(pr, lim)
		pr.CloseWithError(err) // a writer still writing gets the error
		t.done <- textResult{text, err}
	}()
	return io.TeeReader(r, pw), t
}

// Wait ends the input (err nil: the reader was read to its end) and
// returns the text.
func (t *TextTee) Wait(err error) (Text, error) {
	if err == nil {
		err = io.EOF
	}
	t.pw.CloseWithError(err)
	res := <-t.done
	return res.text, res.err
}
