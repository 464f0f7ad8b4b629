package imapgw

import (
	"bytes"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// headerFields answers BODY[HEADER], BODY[HEADER.FIELDS (...)] and
// BODY[HEADER.FIELDS.NOT (...)] of the whole message from its header
// block hdr (blank line included) by picking whole lines, without parsing
// the header. It takes only headers whose every line ends in CRLF and
// whose field names are plain; anything else returns false, for
// extractSection to handle (TestHeaderFieldsSameAsImapserver).
func headerFields(hdr []byte, sec *imap.FetchItemBodySection) ([]byte, bool) {
	if len(sec.Part) != 0 || sec.Specifier != imap.PartSpecifierHeader {
		return nil, false
	}
	keep := func(name []byte) bool {
		if len(sec.HeaderFields) > 0 {
			return fieldIn(name, sec.HeaderFields)
		}
		return !fieldIn(name, sec.HeaderFieldsNot)
	}
	out := make([]byte, 0, 512)
	kept := false // the field being read is kept
	for rest := hdr; ; {
		i := bytes.IndexByte(rest, '\n')
		if i < 1 || rest[i-1] != '\r' {
			return nil, false // bare LF, or no blank line
		}
		line := rest[:i+1]
		rest = rest[i+1:]
		switch {
		case len(line) == 2: // the blank line
			if len(rest) != 0 {
				return nil, false
			}
			return partial(append(out, "\r\n"...), sec.Partial), true
		case line[0] == ' ' || line[0] == '\t':
			if len(hdr)-len(rest) == len(line) {
				return nil, false // the first line continues nothing
			}
		default:
			colon := bytes.IndexByte(line, ':')
			if colon < 1 || !plainName(line[:colon]) {
				return nil, false
			}
			kept = keep(line[:colon])
		}
		if bytes.IndexByte(line[:len(line)-2], '\r') >= 0 || bytes.IndexByte(line, 0) >= 0 {
			return nil, false
		}
		if kept {
			out = append(out, line...)
		}
	}
}

// plainName reports whether name is a field name as RFC 5322 section 2.2
// has it: printable ASCII but colon (so no spaces to trim either).
func plainName(name []byte) bool {
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func fieldIn(name []byte, list []string) bool {
	for _, f := range list {
		if len(f) == len(name) && strings.EqualFold(f, string(name)) {
			return true
		}
	}
	return false
}
