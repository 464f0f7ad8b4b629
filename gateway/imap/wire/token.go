package wire

import (
	"io"
	"strings"
)

// The character classes of RFC 9051 section 9.

func isCTL(c byte) bool { return c < 0x20 || c == 0x7f }

// isAtomChar: ATOM-CHAR, any CHAR except atom-specials.
func isAtomChar(c byte) bool {
	if c >= 0x80 || isCTL(c) {
		return false
	}
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// isAstringChar: ASTRING-CHAR, ATOM-CHAR or resp-specials.
func isAstringChar(c byte) bool { return isAtomChar(c) || c == ']' }

// isListChar: list-char, ATOM-CHAR, list-wildcards or resp-specials.
func isListChar(c byte) bool { return isAstringChar(c) || c == '%' || c == '*' }

// isTagChar: tag, any ASTRING-CHAR except "+".
func isTagChar(c byte) bool { return isAstringChar(c) && c != '+' }

func (p *Reader) eol() bool { return p.pos >= len(p.line) }

func (p *Reader) peek() byte {
	if p.eol() {
		return 0
	}
	return p.line[p.pos]
}

func (p *Reader) expect(c byte) error {
	if p.peek() != c || p.eol() {
		if p.eol() {
			return errSyntax("expected %q, got end of line", c)
		}
		return errSyntax("expected %q at %q", c, p.rest())
	}
	p.pos++
	return nil
}

func (p *Reader) sp() error { return p.expect(' ') }

// rest is the unread part of the line, shortened for error messages.
func (p *Reader) rest() string {
	s := string(p.line[p.pos:])
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func (p *Reader) span(ok func(byte) bool) string {
	start := p.pos
	for p.pos < len(p.line) && ok(p.line[p.pos]) {
		p.pos++
	}
	return string(p.line[start:p.pos])
}

// atom reads an atom (RFC 9051 section 9).
func (p *Reader) atom() (string, error) {
	s := p.span(isAtomChar)
	if s == "" {
		return "", p.unexpected("atom")
	}
	return s, nil
}

func (p *Reader) unexpected(what string) error {
	if p.eol() {
		return errSyntax("expected %s, got end of line", what)
	}
	if p.line[p.pos] == 0 {
		return errSyntax("NUL is not allowed")
	}
	return errSyntax("expected %s at %q", what, p.rest())
}

// keyword reads an atom and returns it in upper case.
func (p *Reader) keyword() (string, error) {
	start := p.pos
	for p.pos < len(p.line) && isAtomChar(p.line[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", p.unexpected("atom")
	}
	return upperWord(p.line[start:p.pos]), nil
}

// upperWord is b in upper case: one of the grammar's words without an
// allocation, or a new string.
func upperWord(b []byte) string {
	var buf [24]byte
	if len(b) <= len(buf) {
		u := buf[:len(b)]
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			u[i] = c
		}
		if w, ok := words[string(u)]; ok {
			return w
		}
	}
	return strings.ToUpper(string(b))
}

// words are the grammar's words that commands are made of.
var words = func() map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(`UID FETCH STORE SEARCH COPY MOVE EXPUNGE SORT THREAD
		SELECT EXAMINE LIST LSUB STATUS APPEND NOOP IDLE LOGIN LOGOUT CAPABILITY CHECK CLOSE
		UNSELECT ENABLE ID CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE NAMESPACE AUTHENTICATE
		FLAGS FLAGS.SILENT ENVELOPE INTERNALDATE RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE
		BODY BODY.PEEK BODYSTRUCTURE BINARY BINARY.PEEK BINARY.SIZE MODSEQ PREVIEW EMAILID
		THREADID SAVEDATE ALL FAST FULL HEADER HEADER.FIELDS HEADER.FIELDS.NOT TEXT MIME
		CHANGEDSINCE UNCHANGEDSINCE VANISHED CONDSTORE QRESYNC RETURN CHARSET MIN MAX COUNT SAVE
		SEEN UNSEEN ANSWERED UNANSWERED DELETED UNDELETED FLAGGED UNFLAGGED DRAFT UNDRAFT NEW
		OLD RECENT NOT OR FROM TO CC BCC SUBJECT SINCE BEFORE ON LARGER SMALLER KEYWORD
		UNKEYWORD MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE HIGHESTMODSEQ UTF-8 US-ASCII
		UTF8=ACCEPT PLAIN`) {
		m[w] = w
	}
	return m
}()

// astring reads an astring: 1*ASTRING-CHAR / string.
func (p *Reader) astring() (string, error) {
	switch p.peek() {
	case '"', '{', '~':
		return p.str()
	}
	s := p.span(isAstringChar)
	if s == "" {
		return "", p.unexpected("astring")
	}
	return s, nil
}

// nstring reads a string or NIL; nil means NIL.
func (p *Reader) nstring() (*string, error) {
	if p.peek() != '"' && p.peek() != '{' {
		a, err := p.atom()
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(a, "NIL") {
			return nil, errSyntax("expected string or NIL, got %q", a)
		}
		return nil, nil
	}
	s, err := p.str()
	return &s, err
}

// str reads a string: a quoted string or a literal.
func (p *Reader) str() (string, error) {
	switch p.peek() {
	case '"':
		return p.quoted()
	case '{':
		b, err := p.literal(false)
		return string(b), err
	case '~':
		return "", errSyntax("literal8 is not allowed here")
	}
	return "", p.unexpected("string")
}

// quoted reads a quoted string. QUOTED-CHAR is any TEXT-CHAR but the
// quoted-specials, which are escaped with a backslash; 8-bit bytes are
// taken as they are (UTF-8 in IMAP4rev2, RFC 9051 section 9 quoted).
func (p *Reader) quoted() (string, error) {
	p.pos++ // "
	var b strings.Builder
	for {
		if p.eol() {
			return "", errSyntax("unterminated quoted string")
		}
		c := p.line[p.pos]
		p.pos++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.eol() || (p.line[p.pos] != '"' && p.line[p.pos] != '\\') {
				return "", errSyntax("bad escape in quoted string")
			}
			b.WriteByte(p.line[p.pos])
			p.pos++
		case c == 0 || c == '\r' || c == '\n':
			return "", errSyntax("NUL or CR or LF in quoted string")
		default:
			b.WriteByte(c)
		}
	}
}

// literalHeader reads "{n}", "{n+}", "{n-}" or, with binary, "~{n}" at the
// end of the line.
func (p *Reader) literalHeader(binary bool) (size int64, sync, isBinary bool, err error) {
	if p.peek() == '~' {
		if !binary {
			return 0, false, false, errSyntax("literal8 is not allowed here")
		}
		isBinary = true
		p.pos++
	}
	if err := p.expect('{'); err != nil {
		return 0, false, false, err
	}
	start := p.pos
	for !p.eol() && p.line[p.pos] >= '0' && p.line[p.pos] <= '9' {
		p.pos++
	}
	digits := p.line[start:p.pos]
	if len(digits) == 0 || len(digits) > 19 {
		return 0, false, false, errSyntax("bad literal length")
	}
	for _, c := range digits {
		size = size*10 + int64(c-'0')
	}
	if size < 0 {
		return 0, false, false, errSyntax("bad literal length")
	}
	sync = true
	if c := p.peek(); c == '+' || c == '-' {
		sync = false
		p.pos++
	}
	if err := p.expect('}'); err != nil {
		return 0, false, false, err
	}
	if !p.eol() {
		return 0, false, false, errSyntax("literal must end the line")
	}
	return size, sync, isBinary, nil
}

// accept asks the callback about a literal and sends the continuation
// request for an accepted synchronizing one.
func (p *Reader) accept(info LiteralInfo) error {
	if p.Literal != nil {
		if err := p.Literal(info); err != nil {
			return &refusedError{err}
		}
	}
	if info.Sync {
		if p.Continue == nil {
			return errSyntax("synchronizing literals are not accepted")
		}
		if err := p.Continue(); err != nil {
			return err
		}
	}
	return nil
}

// literal reads an argument literal into memory, then the line that
// follows it.
func (p *Reader) literal(binary bool) ([]byte, error) {
	size, sync, isBin, err := p.literalHeader(binary)
	if err != nil {
		return nil, err
	}
	if err := p.checkNonSync(size, sync); err != nil {
		return nil, err
	}
	if size > p.lim.Literal || p.used+size > p.lim.Command {
		if !sync && size > p.discardCap() {
			return nil, &fatalError{code: "TOOBIG", err: ErrLiteralTooBig}
		}
		return nil, &syntaxError{code: "TOOBIG", msg: "literal too big"}
	}
	if err := p.accept(LiteralInfo{Tag: p.tag, Command: p.name, Size: size, Sync: sync, Binary: isBin}); err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(p.br, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	p.used += size
	if err := p.readLine(); err != nil {
		return nil, err
	}
	if !isBin {
		for _, c := range buf {
			if c == 0 {
				return nil, errSyntax("NUL in literal")
			}
		}
	}
	return buf, nil
}

// number reads a number (up to 2^32-1).
func (p *Reader) number() (uint32, error) {
	n, err := p.number64()
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, errSyntax("number too big")
	}
	return uint32(n), nil
}

// nzNumber reads a non-zero number.
func (p *Reader) nzNumber() (uint32, error) {
	n, err := p.number()
	if err == nil && n == 0 {
		err = errSyntax("expected a non-zero number")
	}
	return n, err
}

// number64 reads a number64 (RFC 9051: up to 2^63-1).
func (p *Reader) number64() (uint64, error) {
	start := p.pos
	var n uint64
	for !p.eol() && p.line[p.pos] >= '0' && p.line[p.pos] <= '9' {
		if n > (1<<63-1)/10 {
			return 0, errSyntax("number too big")
		}
		n = n*10 + uint64(p.line[p.pos]-'0')
		if n > 1<<63-1 {
			return 0, errSyntax("number too big")
		}
		p.pos++
	}
	if p.pos == start {
		return 0, p.unexpected("number")
	}
	return n, nil
}

// enter and leave count the nesting of lists and search keys.
func (p *Reader) enter() error {
	p.depth++
	if p.depth > p.lim.Depth {
		return errSyntax("nested too deeply")
	}
	return nil
}

func (p *Reader) leave() { p.depth-- }

// list reads "(" item *(SP item) ")", or "()" when empty is true.
func (p *Reader) list(empty bool, item func() error) error {
	if err := p.expect('('); err != nil {
		return err
	}
	if err := p.enter(); err != nil {
		return err
	}
	defer p.leave()
	if p.peek() == ')' && !p.eol() {
		if !empty {
			return errSyntax("empty list")
		}
		p.pos++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if p.peek() == ')' && !p.eol() {
			p.pos++
			return nil
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
}

// flag reads a flag: "\" atom or a keyword atom. star allows "\*".
func (p *Reader) flag(star bool) (string, error) {
	if p.peek() == '\\' && !p.eol() {
		p.pos++
		if star && p.peek() == '*' {
			p.pos++
			return `\*`, nil
		}
		a, err := p.atom()
		if err != nil {
			return "", err
		}
		return `\` + a, nil
	}
	return p.atom()
}

// flagList reads "(" [flag *(SP flag)] ")".
func (p *Reader) flagList() ([]string, error) {
	var flags []string
	err := p.list(true, func() error {
		f, err := p.flag(false)
		flags = append(flags, f)
		return err
	})
	return flags, err
}

// atomList reads "(" atom *(SP atom) ")" in upper case.
func (p *Reader) atomList(empty bool) ([]string, error) {
	var out []string
	err := p.list(empty, func() error {
		a, err := p.keyword()
		out = append(out, a)
		return err
	})
	return out, err
}
