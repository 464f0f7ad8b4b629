package imapgw

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/textproto"

	"github.com/bucketmail/bucketmail/internal/message"
)

// Body sections of a message in memory (RFC 9051 section 6.4.5), for what
// the summary does not locate: the MIME header of a part, the header or
// text of an encapsulated message, a part of a message whose summary is
// missing or bad.

// entity is one MIME entity of a message: its header block (blank line
// included) and its body, both slices of the message.
type entity struct {
	hdr, body []byte
	h         textproto.Header
}

// splitEntity splits b into header and body. A header that does not parse
// leaves the fields read before the damage.
func splitEntity(b []byte) entity {
	br := bytes.NewReader(b)
	r := bufio.NewReader(br)
	h, _ := textproto.ReadHeader(r)
	n := len(b) - br.Len() - r.Buffered()
	return entity{hdr: b[:n], body: b[n:], h: h}
}

// mediaType is the entity's Content-Type, text/plain by default (RFC
// 2045 section 5.2), lower case.
func (e *entity) mediaType() (string, map[string]string) {
	t, params, err := mime.ParseMediaType(e.h.Get("Content-Type"))
	if err != nil || t == "" {
		return "text/plain", nil
	}
	return t, params
}

func (e *entity) isMultipart() bool {
	t, params := e.mediaType()
	return strings.HasPrefix(t, "multipart/") && params["boundary"] != ""
}

func (e *entity) isMessage() bool {
	t, _ := e.mediaType()
	return t == "message/rfc822" || t == "message/global"
}

// parts splits a multipart body at its boundary (RFC 2046 section 5.1.1):
// each part's header and body, without the line break that belongs to the
// next delimiter. An unterminated last part runs to the end.
func (e *entity) parts() [][]byte {
	_, params := e.mediaType()
	delim := []byte("--" + params["boundary"])
	body := e.body
	var parts [][]byte
	start := -1
	for pos := 0; pos < len(body); {
		end := len(body)
		if i := bytes.IndexByte(body[pos:], '\n'); i >= 0 {
			end = pos + i + 1
		}
		if line := body[pos:end]; bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r\n")
			closing := string(rest) == "--"
			if len(rest) == 0 || closing {
				if start >= 0 {
					e := pos
					if e > start && body[e-1] == '\n' {
						e--
						if e > start && body[e-1] == '\r' {
							e--
						}
					}
					parts = append(parts, body[start:e])
				}
				if closing {
					return parts
				}
				start = end
			}
		}
		pos = end
	}
	if start >= 0 && start <= len(body) {
		parts = append(parts, body[start:])
	}
	return parts
}

// findPart returns the entity a part path names (RFC 9051 section 6.4.5:
// the parts of a multipart, the body of a single-part message as part 1,
// the parts of an encapsulated message under a message/rfc822 part), and
// whether it exists. A path deeper than message.MaxDepth, which no
// BODYSTRUCTURE describes, is taken as a part that does not exist.
func findPart(raw []byte, path []int) (entity, bool) {
	if len(path) > message.MaxDepth {
		return entity{}, false
	}
	cur := splitEntity(raw)
	isMessage := true
	for i, n := range path {
		switch {
		case cur.isMultipart():
			parts := cur.parts()
			if n < 1 || n > len(parts) {
				return entity{}, false
			}
			cur = splitEntity(parts[n-1])
		case n == 1 && isMessage:
			// The body of a single-part message is its part 1.
		default:
			return entity{}, false
		}
		isMessage = false
		if i < len(path)-1 && cur.isMessage() {
			cur, isMessage = splitEntity(cur.body), true
		}
	}
	return cur, true
}

// extractSection returns BODY[section]<partial> of raw; nil for a part
// that does not exist.
func extractSection(raw []byte, sec *imap.FetchItemBodySection) []byte {
	e, ok := findPart(raw, sec.Part)
	if !ok {
		return nil
	}
	var b []byte
	switch sec.Specifier {
	case imap.PartSpecifierNone:
		b = e.body
		if len(sec.Part) == 0 {
			b = raw
		}
	case imap.PartSpecifierMIME:
		b = e.hdr
	default: // HEADER, HEADER.FIELDS[.NOT], TEXT of a message
		if len(sec.Part) > 0 {
			if !e.isMessage() {
				return nil
			}
			e = splitEntity(e.body)
		}
		switch {
		case sec.Specifier == imap.PartSpecifierText:
			b = e.body
		case len(sec.HeaderFields) > 0 || len(sec.HeaderFieldsNot) > 0:
			b = pickFields(&e, sec)
		default:
			b = e.hdr
		}
	}
	return partial(b, sec.Partial)
}

// pickFields is HEADER.FIELDS or HEADER.FIELDS.NOT of e: the fields kept,
// as they are in the message, and the blank line.
func pickFields(e *entity, sec *imap.FetchItemBodySection) []byte {
	keep := func(name string) bool {
		if len(sec.HeaderFields) > 0 {
			return fieldIn([]byte(name), sec.HeaderFields)
		}
		return !fieldIn([]byte(name), sec.HeaderFieldsNot)
	}
	var out []byte
	for fs := e.h.Fields(); fs.Next(); {
		if !keep(fs.Key()) {
			continue
		}
		raw, err := fs.Raw()
		if err != nil {
			continue
		}
		out = append(out, raw...)
	}
	return append(out, "\r\n"...)
}

// extractBinary returns BINARY[part]<partial> of raw (RFC 3516): the
// part's content with its transfer encoding undone; nil for a part that
// does not exist or whose encoding is unknown or broken.
func extractBinary(raw []byte, path []int, p *imap.SectionPartial) []byte {
	if len(path) == 0 {
		return partial(raw, p)
	}
	e, ok := findPart(raw, path)
	if !ok {
		return nil
	}
	var dec func(io.Reader) io.Reader
	if e.isMultipart() {
		dec = func(r io.Reader) io.Reader { return r }
	} else {
		dec = decoder(&message.Part{Encoding: strings.ToLower(strings.TrimSpace(e.h.Get("Content-Transfer-Encoding")))})
	}
	if dec == nil {
		return nil
	}
	b, err := io.ReadAll(dec(bytes.NewReader(e.body)))
	if err != nil {
		return nil
	}
	return partial(b, p)
}
