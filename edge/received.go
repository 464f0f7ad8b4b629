package edge

import (
	"crypto/tls"
	"net/netip"
	"strings"
	"time"
)

// traceInfo is what the Received: line of one message says.
type traceInfo struct {
	helo     string
	clientIP string
	hostname string
	tls      *tls.ConnectionState
	auth     bool
	id       string
	rcpts    []string
	date     time.Time
}

// receivedHeader returns the trace line the edge prepends to every message
// (RFC 5321 section 4.4), folded and CRLF-terminated:
//
//	Received: from HELO ([IP])
//		by HOSTNAME with ESMTPS (TLS1.3 TLS_AES_128_GCM_SHA256)
//		id QUEUEID
//		for <rcpt>; DATE
//
// The protocol names are those of RFC 3848. "for" is given only for a
// single recipient so as not to disclose the others (section 7.2).
func receivedHeader(t traceInfo) string {
	var b strings.Builder
	b.WriteString("Received: from ")
	b.WriteString(cleanHelo(t.helo))
	b.WriteString(" (")
	b.WriteString(addressLiteral(t.clientIP))
	b.WriteString(")\r\n\tby ")
	b.WriteString(t.hostname)
	b.WriteString(" with ")
	b.WriteString(protocolName(t.tls != nil, t.auth))
	if t.tls != nil {
		b.WriteString(" (")
		b.WriteString(strings.ReplaceAll(tls.VersionName(t.tls.Version), " ", ""))
		b.WriteString(" ")
		b.WriteString(tls.CipherSuiteName(t.tls.CipherSuite))
		b.WriteString(")")
	}
	b.WriteString("\r\n\tid ")
	b.WriteString(t.id)
	if len(t.rcpts) == 1 && printableAddr(t.rcpts[0]) {
		b.WriteString("\r\n\tfor <")
		b.WriteString(t.rcpts[0])
		b.WriteString(">")
	}
	b.WriteString("; ")
	b.WriteString(t.date.Format(time.RFC1123Z))
	b.WriteString("\r\n")
	return b.String()
}

// protocolName is the "with" keyword (RFC 3848 section 2).
func protocolName(tls, auth bool) string {
	p := "ESMTP"
	if tls {
		p += "S"
	}
	if auth {
		p += "A"
	}
	return p
}

// addressLiteral formats ip as in RFC 5321 section 4.1.3.
func addressLiteral(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "[unknown]"
	}
	a = a.Unmap()
	if a.Is6() {
		return "[IPv6:" + a.String() + "]"
	}
	return "[" + a.String() + "]"
}

// cleanHelo keeps the HELO argument from breaking the header: the client
// chooses it freely.
func cleanHelo(h string) string {
	if len(h) > 255 {
		h = h[:255]
	}
	h = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '.', r == '-', r == '_', r == ':', r == '[', r == ']':
			return r
		}
		return '?'
	}, h)
	if h == "" {
		return "unknown"
	}
	return h
}

// printableAddr reports whether addr can go in a header as is: no
// controls, spaces or angle brackets (UTF-8 is fine, RFC 6532).
func printableAddr(addr string) bool {
	for _, r := range addr {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' {
			return false
		}
	}
	return addr != ""
}
