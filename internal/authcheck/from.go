package authcheck

import (
	"bytes"
	"net/mail"
	"strings"
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
// message with exactly one (RFC 7489 section 6.6.1).
func (h *headerCapture) from() []string {
	var domains []string
	fields := 0
	for _, line := range unfold(h.buf) {
		name, value, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "From") {
			continue
		}
		fields++
		addrs, err := mail.ParseAddressList(value)
		if err != nil {
			// Be lenient with a broken display name: take what is in <>.
			if i, j := strings.LastIndex(value, "<"), strings.LastIndex(value, ">"); i >= 0 && j > i {
				addrs = []*mail.Address{{Address: value[i+1 : j]}}
			} else if a := strings.TrimSpace(value); strings.Count(a, "@") == 1 {
				addrs = []*mail.Address{{Address: a}}
			}
		}
		for _, a := range addrs {
			if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
				domains = append(domains, strings.ToLower(strings.TrimSuffix(d, ".")))
			}
		}
	}
	if fields > 1 {
		return append(domains, "") // several From: fields: never a single author domain
	}
	return domains
}

// unfold splits a header block into unfolded fields (RFC 5322 section 2.2.3).
// The lines of a field are joined once, at its end: joining them one by
// one would cost the square of the number of lines.
func unfold(b []byte) []string {
	var fields, cur []string // cur: lines of the field being read
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(cur) > 0 {
			cur = append(cur, line)
			continue
		}
		if len(cur) > 0 {
			fields = append(fields, strings.Join(cur, ""))
		}
		cur = append(cur[:0], line)
	}
	if len(cur) > 0 {
		fields = append(fields, strings.Join(cur, ""))
	}
	return fields
}
