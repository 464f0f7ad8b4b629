package message

import (
	"bytes"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Limits that keep a hostile message from making a huge summary.
const (
	maxField  = 64 << 10 // bytes kept of one header field value
	maxFields = 1 << 20  // bytes kept of all field values of one message
	maxLine   = MaxHeader
	bodyLine  = 1024 // bytes of a body line looked at (boundaries are <= 70)
)

// wanted lists the fields a summary is made of (lower-case). Only the first
// occurrence of each is kept, as go-message's Header.Get would return.
var wanted = map[string]bool{
	"content-type": true, "content-transfer-encoding": true, "content-id": true,
	"content-description": true, "content-disposition": true, "content-language": true,
	"content-location": true, "content-md5": true,
	"date": true, "subject": true, "from": true, "sender": true, "reply-to": true,
	"to": true, "cc": true, "bcc": true, "in-reply-to": true, "message-id": true,
}

// headerReader collects the wanted fields of one header block, unfolded the
// way go-message's textproto.ReadHeader does (RFC 5322 section 2.2.3).
type headerReader struct {
	h      textproto.Header
	key    string // field being collected, "" when the current field is ignored
	val    []byte
	budget *int // shared across the message
}

// line feeds one header line (without its terminator).
func (hr *headerReader) line(text []byte) {
	if len(text) > 0 && (text[0] == ' ' || text[0] == '\t') {
		if hr.key != "" {
			hr.appendValue(text)
		}
		return
	}
	hr.flush()
	i := bytes.IndexByte(text, ':')
	if i < 0 {
		return // not a field; tolerated and ignored
	}
	key := strings.ToLower(string(bytes.Trim(text[:i], " \t")))
	if !wanted[key] || hr.h.Has(key) || !validKey(key) {
		return
	}
	hr.key = key
	hr.val = hr.val[:0]
	hr.appendValue(text[i+1:])
}

// appendValue adds one physical line of a value: trimmed, joined by a space.
func (hr *headerReader) appendValue(l []byte) {
	l = bytes.TrimSuffix(l, []byte("\r"))
	l = bytes.Trim(l, " \t")
	if len(l) == 0 {
		return
	}
	room := min(maxField-len(hr.val), *hr.budget)
	if room <= 1 {
		return
	}
	if len(hr.val) > 0 {
		hr.val = append(hr.val, ' ')
		room--
	}
	if len(l) > room {
		l = l[:room]
	}
	hr.val = append(hr.val, l...)
	*hr.budget -= len(l) + 1
}

// flush stores the field being collected.
func (hr *headerReader) flush() {
	if hr.key != "" {
		hr.h.Add(hr.key, string(hr.val))
		hr.key = ""
	}
}

// validKey reports whether k is an RFC 5322 field name (printable ASCII, no colon).
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}
