package managesieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds of what a client may send (RFC 5804 leaves them to the server).
const (
	maxLine    = 8 << 10 // a command's bytes outside literals
	maxLiteral = 1 << 20 // one literal; scripts are bounded below this by sieve.Limits
	maxArgs    = 4
)

// errSyntax is a malformed command: answered NO, the session goes on when
// the line could be read to its end.
var errSyntax = errors.New("managesieve: syntax error")

// errTooLong ends the session: the rest of the input cannot be trusted.
var errTooLong = errors.New("managesieve: command too long")

// reader reads commands (RFC 5804 section 4): an atom, then strings
// (quoted or literal) and numbers, ending with CRLF.
type reader struct {
	br   *bufio.Reader
	used int // bytes of the current command outside literals
}

func (r *reader) byte() (byte, error) {
	r.used++
	if r.used > maxLine {
		return 0, errTooLong
	}
	return r.br.ReadByte()
}

// command reads one command: its name in upper case and its arguments.
func (r *reader) command() (string, []string, error) {
	r.used = 0
	var args []string
	name, end, err := r.atom(0)
	if err != nil {
		return "", nil, err
	}
	for !end {
		c, err := r.byte()
		if err != nil {
			return "", nil, err
		}
		var arg string
		switch {
		case c == ' ':
			continue
		case c == '\r' || c == '\n':
			if err := r.endLine(c); err != nil {
				return "", nil, err
			}
			end = true
			continue
		case c == '"':
			arg, err = r.quoted()
		case c == '{':
			arg, err = r.literal()
		default:
			arg, end, err = r.atom(c)
		}
		if err != nil {
			return "", nil, err
		}
		args = append(args, arg)
		if len(args) > maxArgs {
			return "", nil, r.skipLine(errSyntax)
		}
	}
	return strings.ToUpper(name), args, nil
}

// atom reads a bare word (a command name or a number) starting with
// first (0: none yet), and reports whether the line ended after it.
func (r *reader) atom(first byte) (string, bool, error) {
	var b strings.Builder
	if first != 0 {
		b.WriteByte(first)
	}
	for {
		c, err := r.byte()
		if err != nil {
			return "", false, err
		}
		switch c {
		case ' ':
			return b.String(), false, nil
		case '\r', '\n':
			return b.String(), true, r.endLine(c)
		case '"', '{', '}', '(', ')', '\\':
			return "", false, r.skipLine(errSyntax)
		}
		b.WriteByte(c)
	}
}

func (r *reader) endLine(c byte) error {
	if c == '\n' {
		return nil
	}
	n, err := r.byte()
	if err != nil {
		return err
	}
	if n != '\n' {
		return r.skipLine(errSyntax)
	}
	return nil
}

// skipLine reads to the end of the line and returns err.
func (r *reader) skipLine(err error) error {
	for {
		c, rerr := r.byte()
		if rerr != nil {
			return rerr
		}
		if c == '\n' {
			return err
		}
	}
}

// quoted reads a quoted string after its opening quote; "\" quotes the
// next character (RFC 5804 section 4: quoted-specials).
func (r *reader) quoted() (string, error) {
	var b strings.Builder
	for {
		c, err := r.byte()
		if err != nil {
			return "", err
		}
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if c, err = r.byte(); err != nil {
				return "", err
			}
		case '\r', '\n':
			if c == '\r' {
				return "", r.skipLine(errSyntax)
			}
			return "", errSyntax
		}
		b.WriteByte(c)
	}
}

// literal reads "{n}" or "{n+}", CRLF, and n octets. ManageSieve
// clients never wait for a continuation (RFC 5804 section 4).
func (r *reader) literal() (string, error) {
	var digits strings.Builder
	for {
		c, err := r.byte()
		if err != nil {
			return "", err
		}
		if c == '}' {
			break
		}
		if c != '+' && (c < '0' || c > '9' || digits.Len() > 9) {
			return "", r.skipLine(errSyntax)
		}
		if c != '+' {
			digits.WriteByte(c)
		}
	}
	n, err := strconv.Atoi(digits.String())
	if err != nil {
		return "", r.skipLine(errSyntax)
	}
	c, err := r.byte()
	if err != nil {
		return "", err
	}
	if err := r.endLine(c); err != nil {
		return "", err
	}
	if n > maxLiteral {
		return "", errTooLong
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// quote writes s as a quoted string, or a literal when it holds CR, LF,
// or is long (RFC 5804 section 4).
func quote(s string) string {
	if len(s) > 1024 || strings.ContainsAny(s, "\r\n\x00") {
		return fmt.Sprintf("{%d}\r\n%s", len(s), s)
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
