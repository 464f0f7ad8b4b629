package message

import (
	"html"
	"strings"
)

// htmlBreaks are the elements whose tags separate words.
var htmlBreaks = map[string]bool{
	"br": true, "p": true, "div": true, "tr": true, "td": true, "th": true, "li": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"table": true, "blockquote": true, "hr": true, "title": true, "pre": true,
}

// maxEntity bounds a character reference (&name; or &#...;).
const maxEntity = 32

// htmlText reduces HTML to its text in one pass: tags and comments go
// (those of block elements leave a line break), the contents of script
// and style elements go, character references are decoded. When final is
// false, s was cut short and a tag or reference left open at its end is
// dropped, so that the result is a prefix of that of the whole input.
func htmlText(s string, final bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '<' && i+1 < len(s) && isTagStart(s[i+1]):
			end, name, ok := scanTag(s, i)
			if !ok {
				if final {
					b.WriteString(s[i:])
				}
				return b.String()
			}
			i = end
			if htmlBreaks[name] {
				b.WriteByte('\n')
			}
			if name == "script" || name == "style" {
				close := indexEndTag(s[i:], name)
				if close < 0 {
					return b.String()
				}
				i += close
			}
		case c == '<' && i+1 == len(s) && !final:
			return b.String()
		case c == '&':
			j := i + 1
			for j < len(s) && j-i <= maxEntity && s[j] != ';' && s[j] != '&' && s[j] != '<' && s[j] > ' ' {
				j++
			}
			if j < len(s) && s[j] == ';' {
				b.WriteString(html.UnescapeString(s[i : j+1]))
				i = j + 1
				continue
			}
			if j == len(s) && !final && j-i <= maxEntity {
				return b.String()
			}
			b.WriteByte('&')
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isTagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// scanTag reads the tag or comment starting at s[i] == '<' and returns the
// index after it and the lower-case element name; ok is false when it does
// not end in s.
func scanTag(s string, i int) (end int, name string, ok bool) {
	if strings.HasPrefix(s[i:], "<!--") {
		k := strings.Index(s[i+4:], "-->")
		if k < 0 {
			return 0, "", false
		}
		return i + 4 + k + 3, "", true
	}
	j := i + 1
	if j < len(s) && s[j] == '/' {
		j++
	}
	n := j
	for n < len(s) && (isAlnum(s[n])) {
		n++
	}
	name = strings.ToLower(s[j:n])
	quote := byte(0)
	for k := n; k < len(s); k++ {
		switch c := s[k]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			if s[i+1] == '/' && (name == "script" || name == "style") {
				name = "/" + name
			}
			return k + 1, name, true
		}
	}
	return 0, "", false
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// indexEndTag returns the index of "</name" in s, in any case, or -1.
func indexEndTag(s, name string) int {
	for i := 0; ; {
		k := strings.Index(s[i:], "</")
		if k < 0 {
			return -1
		}
		i += k
		if len(s)-i-2 >= len(name) && strings.EqualFold(s[i+2:i+2+len(name)], name) {
			return i
		}
		i += 2
	}
}
