package wire

import (
	"io"
	"time"
)

// Append is APPEND mailbox message... (RFC 9051 section 6.3.12, MULTIAPPEND
// RFC 3502, literal8 RFC 3516 section 4.4). Message is the first message;
// the reader has read its literal header, not its data.
type Append struct {
	Mailbox string
	Message *Message
}

// Message is one message of an APPEND. Its data is streamed from the
// connection: read it to the end, then call Reader.NextMessage.
type Message struct {
	Flags  []string  // nil if absent
	Date   time.Time // zero if absent
	Size   int64
	Binary bool // sent as literal8: may hold NUL bytes

	p    *Reader
	left int64
}

// Read reads the message data. It returns io.EOF at the end of the
// message, and after NextMessage or ReadCommand moved on.
func (m *Message) Read(b []byte) (int, error) {
	if m.left <= 0 || m.p.msg != m {
		return 0, io.EOF
	}
	if int64(len(b)) > m.left {
		b = b[:m.left]
	}
	n, err := m.p.br.Read(b)
	m.left -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func parseAppend(p *Reader, cmd *Command) error {
	var a Append
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Mailbox, err = p.astring(); err != nil {
		return err
	}
	p.appendTo = a.Mailbox
	a.Message, err = p.appendMessage()
	return err
}

// appendMessage reads append-opts SP (literal / literal8) up to the end of
// the literal header, asks the callback and leaves the data unread.
func (p *Reader) appendMessage() (*Message, error) {
	m := &Message{p: p}
	if err := p.sp(); err != nil {
		return nil, err
	}
	if p.peek() == '(' {
		flags, err := p.flagList()
		if err != nil {
			return nil, err
		}
		m.Flags = flags
		if m.Flags == nil {
			m.Flags = []string{}
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
	}
	if p.peek() == '"' {
		t, err := p.dateTime()
		if err != nil {
			return nil, err
		}
		m.Date = t
		if err := p.sp(); err != nil {
			return nil, err
		}
	}
	size, sync, binary, err := p.literalHeader(true)
	if err != nil {
		return nil, err
	}
	if err := p.checkNonSync(size, sync); err != nil {
		return nil, err
	}
	if size > p.lim.Message {
		if !sync {
			return nil, &fatalError{code: "TOOBIG", err: ErrLiteralTooBig}
		}
		return nil, &syntaxError{code: "TOOBIG", msg: "message too big"}
	}
	m.Size, m.Binary, m.left = size, binary, size
	if err := p.accept(LiteralInfo{Tag: p.tag, Command: p.name, Size: size, Sync: sync, Binary: binary, Message: true, Mailbox: p.appendTo}); err != nil {
		return nil, err
	}
	p.msg = m
	return m, nil
}

// NextMessage skips what is left of the current APPEND message and reads
// what follows it: the next message of a MULTIAPPEND, or the end of the
// command (nil, nil). An error is returned as ReadCommand returns it, with
// the rest of the command discarded; the handler must then store none of
// the command's messages (RFC 3502 section 6.3.11).
func (p *Reader) NextMessage() (*Message, error) {
	m := p.msg
	if m == nil {
		return nil, nil
	}
	if _, err := p.br.Discard(int(m.left)); err != nil {
		p.msg = nil
		return nil, err
	}
	m.left = 0
	p.msg = nil
	if err := p.readLine(); err != nil {
		return nil, p.fail(err)
	}
	if p.eol() {
		return nil, nil
	}
	next, err := p.appendMessage()
	if err != nil {
		return nil, p.fail(err)
	}
	return next, nil
}
