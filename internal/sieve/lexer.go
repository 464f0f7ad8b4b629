package sieve

import (
	"fmt"
	"strconv"
	"strings"
)

// tokenKind is the class of a lexical token (RFC 5228 section 8.1).
type tokenKind int

const (
	tEOF tokenKind = iota
	tIdent
	tTag
	tNumber
	tString
	tPunct // one of [ ] ( ) { } , ;
)

// token is one lexical token with the position it starts at.
type token struct {
	kind tokenKind
	text string // identifier or tag name (lower case), string value, punctuation
	num  int64
	pos  Pos
}

// Pos is a position in a script, both counted from 1.
type Pos struct {
	Line, Col int
}

// Error is a compile or run-time error, with the position of the
// offending command when it has one.
type Error struct {
	Pos Pos
	Msg string
}

// Error reports the message with its line and column, as ManageSieve
// and the admin command show it to the script's author.
func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return "sieve: " + e.Msg
	}
	return fmt.Sprintf("sieve: line %d column %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

func errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// lexer splits a script into tokens. It never backtracks, so lexing is
// linear in the script's size.
type lexer struct {
	src       string
	off       int
	line, col int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Line: l.line, Col: l.col} }

// advance moves past n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

// skipSpace skips white space and both kinds of comments
// (RFC 5228 section 2.3).
func (l *lexer) skipSpace() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case c == '#':
			end := strings.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				end = len(l.src) - l.off
			}
			l.advance(end)
		case strings.HasPrefix(l.src[l.off:], "/*"):
			p := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return errorf(p, "unterminated comment")
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	switch {
	case strings.IndexByte("[](){},;", c) >= 0:
		l.advance(1)
		return token{kind: tPunct, text: string(c), pos: p}, nil
	case c == '"':
		s, err := l.quoted()
		return token{kind: tString, text: s, pos: p}, err
	case c == ':':
		l.advance(1)
		id := l.ident()
		if id == "" {
			return token{}, errorf(p, "a tag needs a name after ':'")
		}
		return token{kind: tTag, text: strings.ToLower(id), pos: p}, nil
	case c >= '0' && c <= '9':
		n, err := l.number()
		return token{kind: tNumber, num: n, pos: p}, err
	case isIdentStart(c):
		id := l.ident()
		if strings.EqualFold(id, "text") && l.off < len(l.src) && l.src[l.off] == ':' {
			l.advance(1)
			s, err := l.multiline(p)
			return token{kind: tString, text: s, pos: p}, err
		}
		return token{kind: tIdent, text: strings.ToLower(id), pos: p}, nil
	}
	return token{}, errorf(p, "unexpected character %q", c)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func (l *lexer) ident() string {
	start := l.off
	for l.off < len(l.src) {
		c := l.src[l.off]
		if !isIdentStart(c) && !(c >= '0' && c <= '9') {
			break
		}
		l.advance(1)
	}
	return l.src[start:l.off]
}

// number reads a number with its optional K, M or G quantifier
// (RFC 5228 section 2.4.1).
func (l *lexer) number() (int64, error) {
	p := l.pos()
	start := l.off
	for l.off < len(l.src) && l.src[l.off] >= '0' && l.src[l.off] <= '9' {
		l.advance(1)
	}
	n, err := strconv.ParseInt(l.src[start:l.off], 10, 64)
	if err != nil || n > 1<<40 {
		return 0, errorf(p, "number too large")
	}
	if l.off < len(l.src) {
		shift := map[byte]uint{'k': 10, 'K': 10, 'm': 20, 'M': 20, 'g': 30, 'G': 30}[l.src[l.off]]
		if shift > 0 {
			l.advance(1)
			n <<= shift
		}
	}
	return n, nil
}

// quoted reads a quoted string. RFC 5228 section 2.4.2: "\" quotes the
// next character, whatever it is.
func (l *lexer) quoted() (string, error) {
	p := l.pos()
	l.advance(1)
	var b strings.Builder
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch c {
		case '"':
			l.advance(1)
			return b.String(), nil
		case '\\':
			if l.off+1 < len(l.src) {
				b.WriteByte(l.src[l.off+1])
			}
			l.advance(2)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
	return "", errorf(p, "unterminated string")
}

// multiline reads a "text:" string up to a line holding a single dot,
// undoing dot-stuffing (RFC 5228 section 2.4.2).
func (l *lexer) multiline(p Pos) (string, error) {
	// Optional white space or a hash comment, then the end of line.
	for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t') {
		l.advance(1)
	}
	rest := l.src[l.off:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		return "", errorf(p, "unterminated text: string")
	}
	if head := strings.TrimRight(rest[:nl], "\r"); head != "" && head[0] != '#' {
		return "", errorf(p, "text: must be followed by the end of the line")
	}
	l.advance(nl + 1)
	var b strings.Builder
	for l.off < len(l.src) {
		rest = l.src[l.off:]
		end := strings.IndexByte(rest, '\n')
		if end < 0 {
			break
		}
		line := strings.TrimSuffix(rest[:end], "\r")
		l.advance(end + 1)
		if line == "." {
			return b.String(), nil
		}
		if strings.HasPrefix(line, "..") {
			line = line[1:]
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	return "", errorf(p, "unterminated text: string")
}
