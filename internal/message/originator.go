package message

import (
	"bytes"
	"strings"
)

// Originator is one originator field of a header block: From, Sender,
// Resent-From or Resent-Sender (RFC 5322 sections 3.6.2 and 3.6.6).
type Originator struct {
	Name  string // lower-case field name: from, sender, resent-from, resent-sender
	Value string // unfolded as the envelope unfolds it
	// Addresses are the mailboxes as the IMAP envelope shows them; a group
	// appears as its markers (an Address without Host).
	Addresses []Address
	// Strict is true when the value is a plain mailbox list that net/mail
	// reads as the same mailboxes: no group, nothing skipped or salvaged.
	Strict bool
}

// originatorNames are the fields a reader takes as the author or sender.
var originatorNames = map[string]bool{"from": true, "sender": true, "resent-from": true, "resent-sender": true}

// Originators returns every originator field of a header block, in order,
// read line by line as Parse reads the header of a message: the same end
// of the block (the first empty line), the same unfolding (RFC 5322 section
// 2.2.3) and field names trimmed of white space, as the obsolete syntax of
// RFC 5322 section 4.5 allows ("From : x"). Every occurrence counts, not
// only the first the envelope keeps. ambiguous reports a line that some
// reader could take as an originator field and others not: a field name
// with controls, spaces or 8-bit bytes inside ("Fr om", "From\x00"), or a
// first line that starts with white space.
func Originators(header []byte) (fields []Originator, ambiguous bool) {
	budget := maxFields
	var cur *headerReader
	var name string
	flush := func() {
		if cur != nil {
			fields = append(fields, newOriginator(name, string(cur.val)))
			cur = nil
		}
	}
	first := true
	for l := newLineReader(bytes.NewReader(header)); l.next(); first = false {
		text := l.text
		if len(text) == 0 && !l.long {
			break
		}
		if text[0] == ' ' || text[0] == '\t' {
			if cur != nil {
				cur.appendValue(text)
			} else if first && looksOriginator(text) {
				ambiguous = true
			}
			continue
		}
		flush()
		key, _, ok := bytes.Cut(text, []byte(":"))
		if !ok {
			continue
		}
		n := strings.ToLower(string(bytes.Trim(key, " \t")))
		switch {
		case !validKey(n):
			ambiguous = ambiguous || looksOriginator(key)
		case originatorNames[n]:
			name, cur = n, &headerReader{budget: &budget}
			cur.appendValue(text[len(key)+1:])
		}
	}
	flush()
	return fields, ambiguous
}

// looksOriginator reports whether b names an originator field once
// everything but letters and hyphens is dropped from it.
func looksOriginator(b []byte) bool {
	if i := bytes.IndexByte(b, ':'); i >= 0 {
		b = b[:i]
	}
	var sb strings.Builder
	for _, c := range bytes.ToLower(b) {
		if c == '-' || (c >= 'a' && c <= 'z') {
			sb.WriteByte(c)
		}
	}
	return originatorNames[sb.String()]
}

func newOriginator(name, value string) Originator {
	o := Originator{Name: name, Value: value, Addresses: parseAddressList(value)}
	strict, err := addrParser.ParseList(value)
	if err != nil || len(strict) != len(o.Addresses) {
		return o
	}
	for i, a := range o.Addresses {
		if a.Host == "" || !strings.EqualFold(a.Mailbox+"@"+a.Host, strict[i].Address) {
			return o
		}
	}
	o.Strict = true
	return o
}

// Address returns the address as mailbox@host.
func (a Address) Address() string {
	if a.Host == "" {
		return a.Mailbox
	}
	return a.Mailbox + "@" + a.Host
}
