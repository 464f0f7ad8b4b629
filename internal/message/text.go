package message

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// wordDecoder decodes RFC 2047 encoded-words. Unlike go-message's decoder it
// never fails on an unknown charset: the bytes are kept and made valid UTF-8
// later, so one odd word does not lose a whole subject or address list.
var wordDecoder = &mime.WordDecoder{CharsetReader: lenientCharsetReader}

func lenientCharsetReader(cs string, input io.Reader) (io.Reader, error) {
	cs = strings.ToLower(cs)
	if cs == "utf-8" || cs == "us-ascii" {
		return input, nil
	}
	r, err := charset.Reader(cs, input)
	if err != nil {
		return input, nil
	}
	return r, nil
}

// decodeText decodes the encoded-words of an unstructured header value
// (RFC 2047 section 6.2) into clean UTF-8.
func decodeText(s string) string {
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		}
	}
	return clean(s)
}

// convertCharset converts b from charset cs to clean UTF-8.
func convertCharset(cs string, b []byte) string {
	r, _ := lenientCharsetReader(cs, bytes.NewReader(b))
	if out, err := io.ReadAll(io.LimitReader(r, maxField)); err == nil {
		b = out
	}
	return clean(string(b))
}

// clean makes s valid UTF-8 without NUL, CR or LF, which IMAP strings cannot
// carry and JSON would not round-trip. Bytes that are not UTF-8 are taken as
// ISO-8859-1, the most likely meaning of raw 8-bit header bytes.
func clean(s string) string {
	ok := utf8.ValidString(s) && !strings.ContainsAny(s, "\x00\r\n")
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = rune(s[i])
		}
		if r == 0 || r == '\r' || r == '\n' {
			r = ' '
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}
