package authcheck

import (
	"bytes"
	"strings"

	msgparse "github.com/bucketmail/bucketmail/internal/message"
)

// maxHeader bounds the header block kept to find From:.
const maxHeader = 256 << 10

// headerCapture keeps the header block of the message written to it.
type headerCapture struct {
	buf  []byte
	done bool
}

func (h *headerCapture) Write(p []byte) (int, error) {
	if h.done {
		return len(p), nil
	}
	start := max(len(h.buf)-3, 0)
	h.buf = append(h.buf, p...)
	if i := bytes.Index(h.buf[start:], []byte("\r\n\r\n")); i >= 0 {
		h.buf, h.done = h.buf[:start+i+2], true
	} else if i := bytes.Index(h.buf[start:], []byte("\n\n")); i >= 0 {
		h.buf, h.done = h.buf[:start+i+1], true
	} else if len(h.buf) > maxHeader {
		h.buf, h.done = h.buf[:maxHeader], true
	}
	return len(p), nil
}

// from returns the domains of the From: header field: DMARC applies to a
// message with exactly one (RFC 7489 section 6.6.1). The fields are read
// by message.Originators, the parser of the IMAP envelope and of the
// edge's submission check, so that the author DMARC evaluates is the one a
// reader sees.
func (h *headerCapture) from() []string {
	fields, ambiguous := msgparse.Originators(h.buf)
	var domains []string
	n := 0
	for _, f := range fields {
		if f.Name != "from" {
			continue
		}
		n++
		for _, a := range f.Addresses {
			if a.Host != "" {
				domains = append(domains, strings.ToLower(strings.TrimSuffix(a.Host, ".")))
			}
		}
	}
	if n > 1 || ambiguous {
		return append(domains, "") // never a single author domain
	}
	return domains
}
