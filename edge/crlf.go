package edge

import (
	"bytes"
	"io"
)

// crlfReader passes the DATA stream through with every bare CR and every
// bare LF turned into CRLF. RFC 5321 section 2.3.8 allows CR and LF only
// together, as a line break; go-smtp's DATA reader ends the message only at
// CRLF.CRLF and passes bare ones through, so "\r.\r\n" or "\n.\n" in a
// stored message would end DATA early at a next hop that reads either as a
// line break (SMTP smuggling, 2023). Normalised, such a line is an ordinary
// "." line of the same message, which the outbound client dot-stuffs.
// Every reader of the stored object (the worker's parsers, DKIM, IMAP,
// POP3, the next hop) then sees the same lines.
type crlfReader struct {
	r     io.Reader
	in    []byte
	out   []byte
	pos   int  // bytes of out already returned
	cr    bool // the last byte read was a CR: its LF may be in the next read
	err   error
	fixed int64 // bare CR and LF replaced
}

func newCRLFReader(r io.Reader) *crlfReader {
	return &crlfReader{r: r, in: make([]byte, 32<<10)}
}

func (c *crlfReader) Read(p []byte) (int, error) {
	for c.pos == len(c.out) {
		if c.err != nil {
			if c.cr && c.err == io.EOF {
				c.cr, c.fixed = false, c.fixed+1
				c.out, c.pos = append(c.out[:0], '\r', '\n'), 0
				break
			}
			return 0, c.err
		}
		n, err := c.r.Read(c.in)
		c.out, c.pos = c.normalise(c.out[:0], c.in[:n]), 0
		c.err = err
	}
	n := copy(p, c.out[c.pos:])
	c.pos += n
	return n, nil
}

// normalise appends src to dst with its line breaks made CRLF. A CR at the
// end of src is held back until the next byte says whether it was bare.
func (c *crlfReader) normalise(dst, src []byte) []byte {
	for len(src) > 0 {
		if c.cr {
			c.cr = false
			dst = append(dst, '\r', '\n')
			if src[0] == '\n' {
				src = src[1:]
				continue
			}
			c.fixed++
		}
		i := bytes.IndexAny(src, "\r\n")
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		if src[i] == '\r' {
			c.cr = true
		} else {
			dst = append(dst, '\r', '\n')
			c.fixed++
		}
		src = src[i+1:]
	}
	return dst
}
