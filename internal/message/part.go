package message

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// newPart describes an entity from its header fields (RFC 2045, RFC 2183,
// RFC 3282, RFC 2557, RFC 1864). A missing or unusable Content-Type means
// text/plain (RFC 2045 section 5.2), or message/rfc822 inside
// multipart/digest (RFC 2046 section 5.1.5). A multipart without a boundary
// cannot be split, so it is taken as text/plain too.
func newPart(h textproto.Header, inDigest bool) Part {
	var p Part
	ct := h.Get("Content-Type")
	if ct != "" {
		t, params := parseParams(ct)
		typ, sub, ok := strings.Cut(t, "/")
		if ok && validToken(typ) && validToken(sub) &&
			(typ != "multipart" || params["boundary"] != "") {
			p.Type, p.Subtype, p.Params = typ, sub, cleanMap(params)
		}
	}
	if p.Type == "" {
		p.Type, p.Subtype = "text", "plain"
		if ct == "" && inDigest {
			p.Type, p.Subtype = "message", "rfc822"
		}
	}
	p.ID = clean(h.Get("Content-Id"))
	p.Description = clean(h.Get("Content-Description"))
	p.Encoding = strings.ToLower(clean(h.Get("Content-Transfer-Encoding")))
	p.MD5 = clean(h.Get("Content-Md5"))
	p.Location = clean(h.Get("Content-Location"))
	if v := h.Get("Content-Disposition"); v != "" {
		d, params := parseParams(v)
		if d != "" && validToken(d) {
			p.Disposition, p.DispParams = d, cleanMap(params)
		}
	}
	for _, lang := range strings.Split(h.Get("Content-Language"), ",") {
		if lang = clean(strings.TrimSpace(lang)); lang != "" {
			p.Language = append(p.Language, lang)
		}
	}
	return p
}

// isMessage reports whether the part encloses a message (RFC 2046 section
// 5.2.1, RFC 6532 section 3.7).
func (p *Part) isMessage() bool {
	return p.Type == "message" && (p.Subtype == "rfc822" || p.Subtype == "global")
}

// validToken reports whether s is an RFC 2045 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// cleanMap makes keys and values of m clean UTF-8; nil when empty.
func cleanMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[clean(k)] = clean(v)
	}
	return out
}
