package authcheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Limits of the header block that DKIM verification reads. RFC 6376 bounds
// none of them, and go-msgauth's verifier joins the lines of a folded field
// by string concatenation, which costs the square of its line count, and
// looks up each name of h= among all fields. A message past a limit is
// still delivered: its signatures are permerror (RFC 6376 section 6.1,
// "the Verifier MAY ... treat the signature as PERMFAIL") and DMARC
// goes by SPF alone.
const (
	maxDKIMHeader   = 256 << 10 // bytes of the header block; Postfix's header_size_limit is 100 KiB
	maxDKIMFields   = 1000      // fields of the header block
	maxFieldLines   = 1000      // lines of one field that a signature covers
	maxSignedFields = 100       // names in the h= tag of one signature
)

// errNoHeader is a header block cut short by the end of the message.
var errNoHeader = errors.New("authcheck: message ends inside its header")

// dkimHeader is the header block of a message as DKIM verification needs
// it, read in time linear in its size.
type dkimHeader struct {
	fields   []dkimField
	over     string // why the header is past a limit; "" when it is within them
	tooLarge bool   // past maxDKIMHeader
}

// dkimField is one header field with its continuation lines.
type dkimField struct {
	raw   []byte // the lines as received, line breaks included
	name  string // lower-case, without white space: for matching h= names only
	lines int
}

// readDKIMHeader reads the header block and its terminating empty line
// from br, or up to the first limit it is past.
func readDKIMHeader(br *bufio.Reader) (*dkimHeader, error) {
	h := &dkimHeader{}
	size := 0
	for {
		line, err := readLine(br, maxDKIMHeader-size)
		size += len(line)
		switch {
		case size > maxDKIMHeader:
			h.over, h.tooLarge = fmt.Sprintf("header exceeds %d bytes", maxDKIMHeader), true
			return h, nil
		case err != nil:
			return nil, errNoHeader
		case isEmptyLine(line):
			return h, nil
		case (line[0] == ' ' || line[0] == '\t') && len(h.fields) > 0:
			f := &h.fields[len(h.fields)-1]
			f.raw = append(f.raw, line...)
			f.lines++
		case len(h.fields) == maxDKIMFields:
			h.over = fmt.Sprintf("header has more than %d fields", maxDKIMFields)
			return h, nil
		default:
			h.fields = append(h.fields, dkimField{raw: line, lines: 1})
		}
	}
}

// readLine returns the next line with its line break, a copy. A line
// longer than room is returned cut at room+1 bytes, which is past the limit.
func readLine(br *bufio.Reader, room int) ([]byte, error) {
	var line []byte
	for {
		seg, err := br.ReadSlice('\n')
		line = append(line, seg[:min(len(seg), room+1-len(line))]...)
		if !errors.Is(err, bufio.ErrBufferFull) || len(line) > room {
			return line, err
		}
	}
}

// isEmptyLine reports whether line ends the header block, as for
// net/textproto, whose reader the verifier uses: nothing but a line break.
func isEmptyLine(line []byte) bool {
	return string(line) == "\r\n" || string(line) == "\n"
}

// finish names the fields, once the header is read.
func (h *dkimHeader) finish() {
	for i := range h.fields {
		f := &h.fields[i]
		name, _, _ := bytes.Cut(f.raw, []byte(":"))
		f.name = squeeze(string(name))
	}
}

// squeeze lower-cases s and drops its white space, line breaks included.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// signatures returns the DKIM-Signature fields, at most the first max.
func (h *dkimHeader) signatures(max int) []*dkimField {
	var sigs []*dkimField
	for i := range h.fields {
		if h.fields[i].name == "dkim-signature" && len(sigs) < max {
			sigs = append(sigs, &h.fields[i])
		}
	}
	return sigs
}

// covered returns the header block that the verifier is given: the
// DKIM-Signature fields and the fields whose names a signature lists in
// h=, in their order, and the empty line. The other fields cannot change
// a verification (RFC 6376 section 5.4.2 picks fields by name), and
// leaving them out keeps the verifier's work to what the signatures cover.
// It sets h.over when a signature or a covered field is past a limit.
func (h *dkimHeader) covered(sigs []*dkimField) []byte {
	names := map[string]bool{"dkim-signature": true}
	for _, s := range sigs {
		signed := signedNames(s.raw)
		if len(signed) > maxSignedFields {
			h.over = fmt.Sprintf("signature covers more than %d fields", maxSignedFields)
			return nil
		}
		for _, n := range signed {
			names[n] = true
		}
	}
	var b bytes.Buffer
	for _, f := range h.fields {
		if !names[f.name] {
			continue
		}
		if f.lines > maxFieldLines {
			h.over = fmt.Sprintf("a signed field is folded over more than %d lines", maxFieldLines)
			return nil
		}
		b.Write(f.raw)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// signedNames returns the names of the h= tag of a DKIM-Signature field
// (RFC 6376 section 3.5), squeezed.
func signedNames(raw []byte) []string {
	v := tag(raw, "h")
	if v == "" {
		return nil
	}
	names := strings.Split(v, ":")
	for i, n := range names {
		names[i] = squeeze(n)
	}
	return names
}

// tag returns the value of tag name of a DKIM-Signature field, without
// white space; "" when absent.
func tag(raw []byte, name string) string {
	_, value, _ := bytes.Cut(raw, []byte(":"))
	for spec := range strings.SplitSeq(string(value), ";") {
		k, v, ok := strings.Cut(spec, "=")
		if ok && squeeze(k) == name {
			return squeeze(v)
		}
	}
	return ""
}
