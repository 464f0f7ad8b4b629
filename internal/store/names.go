package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxMailboxName is the longest mailbox name accepted, in bytes.
const maxMailboxName = 255

// CanonicalMailboxName returns name with INBOX, the only case-insensitive
// name (RFC 9051 section 5.1), spelled "INBOX", also as the first level of
// a hierarchy ("inbox/x" → "INBOX/x").
func CanonicalMailboxName(name string) string {
	if strings.EqualFold(name, Inbox) {
		return Inbox
	}
	if len(name) > len(Inbox) && name[len(Inbox)] == Delimiter && strings.EqualFold(name[:len(Inbox)], Inbox) {
		return Inbox + name[len(Inbox):]
	}
	return name
}

// ValidMailboxName checks a mailbox name (after decoding from modified
// UTF-7): valid UTF-8 of at most 255 bytes, no empty level (so no leading,
// trailing or doubled "/"), no "." or ".." level, no control characters,
// and not the LIST wildcards "*" and "%" (RFC 9051 section 6.3.9). The
// error wraps ErrInvalid.
func ValidMailboxName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("store: mailbox name %q: %s: %w", name, why, ErrInvalid)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxMailboxName:
		return bad("too long")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return bad("control character")
		}
		if c == '*' || c == '%' {
			return bad("wildcard")
		}
	}
	for _, level := range strings.Split(name, string(Delimiter)) {
		switch level {
		case "":
			return bad("empty level")
		case ".", "..":
			return bad("dot level")
		}
	}
	return nil
}
