package message

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PreviewLen is the most characters of Summary.Preview (RFC 8970 allows
// up to 256 and recommends 200).
const PreviewLen = 200

// Bounds of the bytes of one part's body kept to make the preview from:
// enough for 200 characters in base64 or quoted-printable (or of
// 200 characters behind a few KiB of blank lines), and behind the head
// and style sheet of most HTML.
const (
	maxPreviewPlain = 4 << 10
	maxPreviewRaw   = 16 << 10
)

// previewer collects, while the parser walks a message, the body of its
// first text/plain part, else of its first text/html part, and makes the
// preview of it (RFC 8970). Parts of enclosed messages and attachments do
// not count: the preview is of the message's own text.
type previewer struct {
	raw      []byte // the body of the part being collected
	max      int    // how much of it is kept
	on       bool   // collecting the current part
	over     bool   // the part's body was longer than maxPreviewRaw
	plain    string // preview of the first text/plain part with text
	html     string // preview of the first text/html part with text
	enclosed int    // depth of message/rfc822 entities the parser is in
}

// start begins collecting part's body if it can give the preview.
func (pv *previewer) start(part *Part) {
	pv.on = false
	if pv.plain != "" || pv.enclosed > 0 || part.Type != "text" || part.Disposition == "attachment" {
		return
	}
	switch {
	case part.Subtype == "plain":
		pv.max = maxPreviewPlain
	case part.Subtype == "html" && pv.html == "":
		pv.max = maxPreviewRaw
	default:
		return
	}
	if pv.raw == nil {
		pv.raw = make([]byte, 0, maxPreviewPlain)
	}
	pv.on, pv.over, pv.raw = true, false, pv.raw[:0]
}

// line adds one body line of the part being collected.
func (pv *previewer) line(text []byte) {
	if !pv.on || pv.over {
		return
	}
	if len(pv.raw)+len(text)+2 > pv.max {
		pv.over = true
		text = text[:max(0, min(len(text), pv.max-len(pv.raw)))]
	}
	pv.raw = append(pv.raw, text...)
	if !pv.over {
		pv.raw = append(pv.raw, '\r', '\n')
	}
}

// end makes the preview of the part collected.
func (pv *previewer) end(part *Part) {
	if !pv.on {
		return
	}
	pv.on = false
	html := part.Subtype == "html"
	s := previewText(decodeBody(pv.raw, part.Encoding, part.Params["charset"], pv.over), html, pv.over)
	if html {
		pv.html = s
	} else {
		pv.plain = s
	}
}

// preview is the preview of the message walked.
func (pv *previewer) preview() string {
	if pv.plain != "" {
		return pv.plain
	}
	return pv.html
}

// decodeBody undoes the transfer encoding and the charset of a part's
// body, to clean UTF-8 (bytes that are not UTF-8 read as ISO-8859-1, as
// ExtractText does); cut says that raw is only the start of the body.
func decodeBody(raw []byte, enc, cs string, cut bool) []byte {
	cs = strings.ToLower(cs)
	if (enc == "" || enc == "7bit" || enc == "8bit" || enc == "binary") && (cs == "" || cs == "utf-8" || cs == "us-ascii") {
		if cut {
			return trimPartialRune(raw)
		}
		return raw
	}
	var r io.Reader = bytes.NewReader(raw)
	switch enc {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		// The decoder skips line breaks; what follows a bad character
		// is lost, what came before it stays.
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	if cs != "" {
		r, _ = lenientCharsetReader(cs, r)
	}
	b, _ := io.ReadAll(io.LimitReader(r, 4*maxPreviewRaw))
	if cut {
		b = trimPartialRune(b)
	}
	return b
}

// previewText is the preview of a part's decoded body: HTML reduced to
// text as for the search index, runs of white space and control
// characters made one space, cut to PreviewLen characters.
func previewText(b []byte, html, cut bool) string {
	if html {
		b = []byte(htmlText(cleanText(b), !cut))
	}
	var out strings.Builder
	n, space := 0, false
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(b[i]) // not UTF-8: ISO-8859-1, as cleanText reads it
		}
		i += size
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			space = out.Len() > 0
			continue
		}
		if n+btoi(space) >= PreviewLen {
			break
		}
		if space {
			out.WriteByte(' ')
			n++
			space = false
		}
		out.WriteRune(r)
		n++
	}
	return out.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
