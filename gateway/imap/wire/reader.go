package wire

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// Limits are the reader's hard caps. Every one is checked before the
// memory it guards is allocated. The zero value of a field means its
// default.
type Limits struct {
	// Line caps one line of a command, outside its literals (default
	// 64 KiB). A longer line is fatal: its end cannot be found without
	// reading it.
	Line int
	// Literal caps a literal that is an argument, such as a mailbox name
	// or a search string (default 64 KiB).
	Literal int64
	// Message caps an APPEND message (default 64 MiB). It is streamed to
	// the caller, never held by the reader.
	Message int64
	// Command caps what one command holds in memory: its lines and
	// argument literals together (default 1 MiB).
	Command int64
	// Depth caps the nesting of parenthesised lists and search keys
	// (default 32).
	Depth int
	// NonSync, if set, caps non-synchronizing literals: 4096 for a server
	// that offers LITERAL- rather than LITERAL+ (RFC 7888 section 5, RFC
	// 9051 section 4.3). A larger one is read, discarded and answered
	// BAD [TOOBIG].
	NonSync int64
}

// keepLine is the line buffer kept between commands; a larger one, grown
// for a long command, is let go.
const keepLine = 4 << 10

// Default limits.
const (
	DefaultLine    = 64 << 10
	DefaultLiteral = 64 << 10
	DefaultMessage = 64 << 20
	DefaultCommand = 1 << 20
	DefaultDepth   = 32
)

func (l Limits) withDefaults() Limits {
	if l.Line <= 0 {
		l.Line = DefaultLine
	}
	if l.Literal <= 0 {
		l.Literal = DefaultLiteral
	}
	if l.Message <= 0 {
		l.Message = DefaultMessage
	}
	if l.Command <= 0 {
		l.Command = DefaultCommand
	}
	if l.Depth <= 0 {
		l.Depth = DefaultDepth
	}
	return l
}

// LiteralInfo describes a literal before its data is read.
type LiteralInfo struct {
	Tag     string
	Command string // upper case; "UID FETCH" etc. for UID commands
	Size    int64
	Sync    bool // {n}: the client waits for a continuation request
	Binary  bool // ~{n} (RFC 3516 literal8)
	Message bool // an APPEND message, not an argument
	// Mailbox is an APPEND's mailbox argument as sent (not decoded), for
	// its messages.
	Mailbox string
}

// Reader reads client commands (RFC 9051 section 2.2.1 and the grammar of
// section 9) from a connection.
type Reader struct {
	// Literal, if set, is asked about each literal before its data is read.
	// For a synchronizing literal an error means no continuation request
	// is sent and the client does not send the data; for a
	// non-synchronizing one the data is read and discarded. Either way
	// ReadCommand (or NextMessage) returns a KindRefused *Error wrapping
	// the callback's error, so that an APPEND over quota or over
	// APPENDLIMIT is answered before the client sends it.
	Literal func(LiteralInfo) error
	// Continue sends a continuation request ("+ ...") for an accepted
	// synchronizing literal and flushes it.
	Continue func() error

	br    *bufio.Reader
	lim   Limits
	line  []byte // the current line, without its CRLF
	pos   int
	used  int64 // bytes of the current command held so far
	depth int
	keys  int // search keys of the current command

	tag, name string
	msg       *Message // the APPEND message being streamed, if any
	appendTo  string   // the running APPEND's mailbox argument
}

// NewReader reads commands from r within lim. cont sends a continuation
// request; see Reader.Continue.
func NewReader(r io.Reader, lim Limits, cont func() error) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 4096)
	}
	return &Reader{br: br, lim: lim.withDefaults(), Continue: cont}
}

// Buffered is how many bytes the client sent that the reader holds and
// has not read as a command yet.
func (p *Reader) Buffered() int { return p.br.Buffered() }

// ReadLine reads one line outside a command: a SASL response during
// AUTHENTICATE or DONE after IDLE. It is capped like a command line.
func (p *Reader) ReadLine() (string, error) {
	p.used = 0
	err := p.readLine()
	var (
		fe *fatalError
		se *syntaxError
	)
	switch {
	case errors.As(err, &fe):
		return "", &Error{Kind: KindFatal, Code: fe.code, Msg: fatalMsg(fe), Err: fe.err}
	case errors.As(err, &se):
		return "", &Error{Kind: KindSyntax, Code: se.code, Msg: se.msg} // over Limits.Command
	case err != nil:
		return "", err
	}
	return string(p.line), nil
}

// readLine reads the next line into p.line. A NUL byte is kept: it is
// not a CHAR, so every token rejects it.
func (p *Reader) readLine() error {
	p.line = p.line[:0]
	p.pos = 0
	for {
		chunk, err := p.br.ReadSlice('\n')
		if len(p.line)+len(chunk) > p.lim.Line+2 {
			return &fatalError{code: "TOOBIG", err: ErrLineTooLong}
		}
		p.line = append(p.line, chunk...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(p.line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	p.line = p.line[:len(p.line)-1]
	if n := len(p.line); n > 0 && p.line[n-1] == '\r' {
		p.line = p.line[:n-1]
	}
	p.used += int64(len(p.line))
	if p.used > p.lim.Command {
		return &syntaxError{code: "TOOBIG", msg: "command too long"}
	}
	return nil
}

// literalSuffix reports the literal announced at the end of line, if any.
func literalSuffix(line []byte) (size int64, sync, binary, ok bool) {
	n := len(line)
	if n < 3 || line[n-1] != '}' {
		return 0, false, false, false
	}
	i := n - 2
	sync = true
	if line[i] == '+' || line[i] == '-' {
		sync = false
		i--
	}
	end := i + 1
	for i >= 0 && line[i] >= '0' && line[i] <= '9' {
		i--
	}
	if i < 0 || line[i] != '{' || i+1 == end || end-(i+1) > 19 {
		return 0, false, false, false
	}
	for _, c := range line[i+1 : end] {
		size = size*10 + int64(c-'0')
	}
	if size < 0 {
		return 0, false, false, false
	}
	binary = i > 0 && line[i-1] == '~'
	return size, sync, binary, true
}

// discardCap is the largest non-synchronizing literal skipped while
// discarding a command; a larger one is fatal.
func (p *Reader) discardCap() int64 { return max(p.lim.Literal, p.lim.Message) }

// checkNonSync refuses a non-synchronizing literal over Limits.NonSync.
func (p *Reader) checkNonSync(size int64, sync bool) error {
	if sync || p.lim.NonSync <= 0 || size <= p.lim.NonSync {
		return nil
	}
	if size > p.discardCap() {
		return &fatalError{code: "TOOBIG", err: ErrLiteralTooBig}
	}
	return &syntaxError{code: "TOOBIG", msg: "non-synchronizing literal too big"}
}

// discard skips the rest of the current command: the rest of the line and,
// as long as a line ends with a non-synchronizing literal, that literal
// and the line after it. A synchronizing literal at the end of the line
// was not (or will not be) accepted, so the client does not send it.
func (p *Reader) discard() error {
	for {
		size, sync, _, ok := literalSuffix(p.line)
		if !ok || sync {
			p.line = p.line[:0]
			p.pos = 0
			return nil
		}
		if size > p.discardCap() {
			return &fatalError{code: "TOOBIG", err: ErrLiteralTooBig}
		}
		if _, err := p.br.Discard(int(size)); err != nil {
			return err
		}
		p.used = 0
		if err := p.readLine(); err != nil {
			var se *syntaxError
			if errors.As(err, &se) {
				continue
			}
			return err
		}
	}
}

// fail turns a parse error into what ReadCommand returns, discarding the
// rest of the command first.
func (p *Reader) fail(err error) error {
	var (
		se *syntaxError
		fe *fatalError
		re *refusedError
		ue *unknownError
	)
	e := &Error{Tag: p.tag, Command: p.name}
	switch {
	case errors.As(err, &fe):
		e.Kind, e.Code, e.Msg, e.Err = KindFatal, fe.code, fatalMsg(fe), fe.err
		return e
	case errors.As(err, &se):
		e.Kind, e.Code, e.Msg = KindSyntax, se.code, se.msg
	case errors.As(err, &re):
		e.Kind, e.Msg, e.Err = KindRefused, "literal refused", re.err
	case errors.As(err, &ue):
		e.Kind, e.Msg = KindUnknown, "unknown command "+ue.name
	default:
		return err // the connection failed
	}
	if derr := p.discard(); derr != nil {
		if errors.As(derr, &fe) {
			return &Error{Tag: p.tag, Command: p.name, Kind: KindFatal, Code: fe.code, Msg: fatalMsg(fe), Err: fe.err}
		}
		return derr
	}
	return e
}

// fatalMsg is the cause of a fatal error as a client may read it.
func fatalMsg(fe *fatalError) string { return strings.TrimPrefix(fe.err.Error(), "imap wire: ") }

type unknownError struct{ name string }

func (e *unknownError) Error() string { return "unknown command " + e.name }

// ReadCommand reads the next command. A command that does not parse is
// read to its end (its non-synchronizing literals included) and returned
// as an *Error; the reader is then ready for the next command unless the
// error is KindFatal. Other errors are the connection's.
//
// An APPEND returns with its first message not yet read: the caller reads
// it from Append.Message and calls NextMessage for the next one. A new
// ReadCommand discards what is left of it.
func (p *Reader) ReadCommand() (*Command, error) {
	if p.msg != nil {
		if err := p.abandonAppend(); err != nil {
			return nil, err
		}
	}
	p.tag, p.name, p.used, p.depth = "", "", 0, 0
	if cap(p.line) > keepLine {
		p.line = nil // an idle connection keeps little
	}
	for {
		if err := p.readLine(); err != nil {
			return nil, p.fail(err)
		}
		if len(p.line) > 0 {
			break
		}
		p.used = 0 // an empty line is not a command; RFC 9051 has none
	}
	cmd, err := p.parseCommand()
	if err != nil {
		p.msg = nil
		return nil, p.fail(err)
	}
	return cmd, nil
}

// abandonAppend skips what the caller did not read of an APPEND: the rest
// of the message, and the rest of the command as discard does. A later
// message behind a synchronizing literal is not sent by the client, since
// it gets no continuation request (RFC 3502 section 6.3.11).
func (p *Reader) abandonAppend() error {
	m := p.msg
	p.msg = nil
	if _, err := p.br.Discard(int(m.left)); err != nil {
		return err
	}
	m.left = 0
	p.used = 0
	// The APPEND has had its answer: only what ends the connection is
	// reported, not the syntax of what is skipped.
	var se *syntaxError
	if err := p.readLine(); err != nil && !errors.As(err, &se) {
		return p.fail(err)
	}
	if err := p.discard(); err != nil {
		return p.fail(err)
	}
	return nil
}
