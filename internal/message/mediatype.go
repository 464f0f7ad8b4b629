package message

import (
	"mime"
	"strings"
)

// parseParams parses a Content-Type or Content-Disposition value into its
// lower-case token and parameters (RFC 2045 section 5.1, RFC 2183, RFC 2231).
// Parameter values are decoded from RFC 2047 encoded-words, as go-message
// does. Where mime.ParseMediaType gives up (unquoted specials such as the
// common boundary=----=_Part_1, duplicate parameters, stray semicolons) the
// value is parsed leniently instead: a broken header must not hide the
// structure of the message.
func parseParams(v string) (token string, params map[string]string) {
	token, params, err := mime.ParseMediaType(v)
	if err != nil {
		token, params = lenientParams(v)
	}
	for k, pv := range params {
		params[k] = decodeText(pv)
	}
	if len(params) == 0 {
		params = nil
	}
	return strings.ToLower(token), params
}

// lenientParams splits v at semicolons outside quoted strings and takes each
// piece as key=value. RFC 2231 sections (key*0, key*1*) are joined and
// extended values (key*=charset'lang'%XX) decoded.
func lenientParams(v string) (string, map[string]string) {
	pieces := splitUnquoted(v, ';')
	token := strings.TrimSpace(pieces[0])
	if i := strings.IndexAny(token, " \t("); i >= 0 {
		token = token[:i]
	}
	params := map[string]string{}
	sections := map[string][]string{} // key → values by section number
	for _, p := range pieces[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = unquote(strings.TrimSpace(val))
		if k == "" {
			continue
		}
		base, sect, ext := rfc2231Key(k)
		if ext {
			val = decode2231(val, sect <= 0)
		}
		if sect < 0 {
			if _, dup := params[base]; !dup {
				params[base] = val
			}
			continue
		}
		s := sections[base]
		for len(s) <= sect && len(s) < 100 {
			s = append(s, "")
		}
		if sect < len(s) {
			s[sect] = val
		}
		sections[base] = s
	}
	for k, s := range sections {
		if _, ok := params[k]; !ok {
			params[k] = strings.Join(s, "")
		}
	}
	return token, params
}

// rfc2231Key splits "name*2*" into "name", 2 and true (extended); sect is
// -1 without a section number.
func rfc2231Key(k string) (base string, sect int, ext bool) {
	if strings.HasSuffix(k, "*") {
		ext = true
		k = k[:len(k)-1]
	}
	sect = -1
	if i := strings.LastIndexByte(k, '*'); i >= 0 {
		n := 0
		digits := k[i+1:]
		for _, c := range digits {
			if c < '0' || c > '9' || n > 1000 {
				return k, -1, ext
			}
			n = n*10 + int(c-'0')
		}
		if digits != "" {
			return k[:i], n, ext
		}
	}
	return k, sect, ext
}

// decode2231 decodes an extended value; the first section carries the charset.
func decode2231(v string, first bool) string {
	cs := "us-ascii"
	if first {
		parts := strings.SplitN(v, "'", 3)
		if len(parts) == 3 {
			cs, v = parts[0], parts[2]
		}
	}
	var b []byte
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			b = append(b, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 2
			continue
		}
		b = append(b, v[i])
	}
	return convertCharset(cs, b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// splitUnquoted splits s at sep outside double quotes.
func splitUnquoted(s string, sep byte) []string {
	var out []string
	quoted, esc, from := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && quoted:
			esc = true
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[from:i])
			from = i + 1
		}
	}
	return append(out, s[from:])
}

// unquote removes the quotes and backslash escapes of a quoted-string.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' {
		return s
	}
	s = strings.TrimSuffix(s[1:], `"`)
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
