package domainkeys

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// signedHeader reads the header block of a message from br, copying every
// byte read to raw, and returns what the signers are given in its place:
// the fields named in SignedHeaders, each unfolded onto one line, then the
// empty line. With relaxed header canonicalization (RFC 6376 section
// 3.4.2) the signature is the same: it unfolds the fields itself and
// covers only the fields it names. go-msgauth's signer joins the lines of
// a folded field by string concatenation, at a cost of the square of their
// number; one line each costs it a single copy.
//
// A header cut short by the end of the message is taken as ended there.
func signedHeader(br *bufio.Reader, raw io.Writer) ([]byte, error) {
	var out bytes.Buffer
	keep := false // the current field is signed
	for {
		line, err := readLine(br)
		if _, werr := raw.Write(line); werr != nil {
			return nil, werr
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		body := trimEOL(line)
		if len(body) == 0 {
			break
		}
		if body[0] == ' ' || body[0] == '\t' {
			if keep {
				out.Write(body)
			}
		} else {
			if keep {
				out.WriteString("\r\n")
			}
			name, _, _ := bytes.Cut(body, []byte(":"))
			if keep = isSigned(string(bytes.TrimSpace(name))); keep {
				out.Write(body)
			}
		}
		if err != nil {
			break // the end of the message
		}
	}
	if keep {
		out.WriteString("\r\n")
	}
	out.WriteString("\r\n")
	return out.Bytes(), nil
}

// readLine returns the next line with its line break, however long.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		seg, err := br.ReadSlice('\n')
		line = append(line, seg...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// trimEOL drops the line break, CRLF or LF, that ends line.
func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// isSigned reports whether a field named name is in SignedHeaders.
func isSigned(name string) bool {
	for _, k := range SignedHeaders {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}
