package sieve

import (
	"mime"
	"net/mail"
	"strings"
	"time"
)

// Field is one header field, its value unfolded but not decoded.
type Field struct {
	Name, Value string
}

// Message is what a script sees of the message it runs on. It caches
// the fields it looks up, so it serves one run at a time.
type Message struct {
	Header  []Field
	From    string                 // envelope sender (MAIL FROM), "" for the null sender
	To      string                 // envelope recipient (RCPT TO) this run is for
	Size    int64                  // octets
	Body    string                 // decoded text of the body's text parts (RFC 5173 :text)
	RawBody string                 // the body undecoded, when the caller has it (:raw)
	Mailbox func(name string) bool // reports whether a mailbox exists; nil: none do
	Now     time.Time              // for currentdate (RFC 5260); zero: the clock
	// Include returns the text of the script include names (RFC 6609):
	// one of the user's, or a global one; ErrNoScript when there is
	// none. nil: no script can be included.
	Include func(global bool, name string) (string, error)

	// cache holds the values already looked up, by name: a script tests
	// the same few fields over and over.
	cache map[string][]string
}

// values returns the decoded values of the fields named name
// (RFC 5228 section 5.7: RFC 2047 encoded words are decoded).
func (m *Message) values(name string, decode bool) []string {
	key := strings.ToLower(name)
	if decode {
		key = "\x00" + key
	}
	if v, ok := m.cache[key]; ok {
		return v
	}
	if m.cache == nil {
		m.cache = map[string][]string{}
	}
	out := m.lookup(name, decode)
	m.cache[key] = out
	return out
}

func (m *Message) lookup(name string, decode bool) []string {
	var out []string
	dec := mime.WordDecoder{}
	for _, f := range m.Header {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		v := strings.TrimSpace(f.Value)
		if decode {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
		}
		out = append(out, v)
	}
	return out
}

// addresses returns the addresses of the fields named name. A value
// that does not parse counts as one address, as written.
func (m *Message) addresses(name string) []string {
	return addressList(m.values(name, false))
}

// addressList parses the addresses of field values.
func addressList(vals []string) []string {
	var out []string
	for _, v := range vals {
		list, err := mail.ParseAddressList(v)
		if err != nil {
			if v != "" {
				out = append(out, v)
			}
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// addressPart returns the part of addr the test asks for, and false when
// it has none (the :detail of an address without a "+", RFC 5233
// section 4).
func addressPart(addr, part string) (string, bool) {
	local, domain := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain = addr[:i], addr[i+1:]
	}
	switch part {
	case "localpart":
		return local, true
	case "domain":
		return domain, true
	case "user":
		user, _, _ := strings.Cut(local, "+")
		return user, true
	case "detail":
		_, detail, ok := strings.Cut(local, "+")
		return detail, ok
	}
	return addr, true
}
