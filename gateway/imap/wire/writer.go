package wire

import (
	"io"
	"strconv"
	"sync"
	"unicode/utf8"
)

// bufMax is how much the Writer holds before it writes through. A FETCH
// of a large section goes out in pieces of about this size; the
// connection below (internal/batchconn) gathers small responses into few
// system calls, so the Writer does not need to hold more.
const bufMax = 16 << 10

// maxQuoted is the longest string written quoted; longer ones are literals.
const maxQuoted = 1024

// Writer writes server responses (RFC 9051 section 7). Elements written
// between Start and End are separated by spaces, and lists by BeginList
// and EndList, so the caller writes values, not separators.
//
// Errors are sticky: once a write failed, every later call does nothing
// and Flush returns the error.
type Writer struct {
	// UTF8: the client enabled UTF8=ACCEPT or IMAP4rev2; strings may be
	// quoted UTF-8 and mailbox names are not modified UTF-7.
	UTF8 bool

	w      io.Writer
	buf    []byte
	err    error
	needSP bool
}

// NewWriter writes responses to w; nothing reaches w before Flush or
// before bufMax bytes are held.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, keepBuf)}
}

// Flush writes what is held.
func (w *Writer) Flush() error {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.w.Write(w.buf)
		w.buf = w.buf[:0]
		if cap(w.buf) > keepBuf {
			w.buf = make([]byte, 0, keepBuf) // an idle connection keeps little
		}
	}
	return w.err
}

// keepBuf is the buffer a Writer keeps between flushes.
const keepBuf = 4 << 10

// Buffered is the number of bytes held.
func (w *Writer) Buffered() int { return len(w.buf) }

func (w *Writer) raw(b []byte) {
	if w.err != nil {
		return
	}
	if len(w.buf)+len(b) > bufMax {
		if w.Flush() != nil {
			return
		}
		if len(b) > bufMax {
			_, w.err = w.w.Write(b)
			return
		}
	}
	w.buf = append(w.buf, b...)
}

func (w *Writer) rawString(s string) {
	if w.err != nil {
		return
	}
	if len(w.buf)+len(s) > bufMax {
		w.raw([]byte(s))
		return
	}
	w.buf = append(w.buf, s...)
}

// sep writes the space before an element.
func (w *Writer) sep() {
	if w.needSP {
		w.rawString(" ")
	}
	w.needSP = true
}

// Start begins an untagged response: "* ".
func (w *Writer) Start() *Writer {
	w.rawString("* ")
	w.needSP = false
	return w
}

// StartTagged begins a tagged response: "tag ".
func (w *Writer) StartTagged(tag string) *Writer {
	w.rawString(tag)
	w.rawString(" ")
	w.needSP = false
	return w
}

// End ends a response line.
func (w *Writer) End() {
	w.rawString("\r\n")
	w.needSP = false
}

// Atom writes an atom (or any word of the grammar: OK, FETCH, \Seen).
func (w *Writer) Atom(s string) *Writer {
	w.sep()
	w.rawString(s)
	return w
}

// Number writes a number.
func (w *Writer) Number(n uint32) *Writer { return w.Number64(uint64(n)) }

// Number64 writes a number64.
func (w *Writer) Number64(n uint64) *Writer {
	w.sep()
	var b [20]byte
	w.raw(strconv.AppendUint(b[:0], n, 10))
	return w
}

// Nil writes NIL.
func (w *Writer) Nil() *Writer { return w.Atom("NIL") }

// BeginList writes "(".
func (w *Writer) BeginList() *Writer {
	w.sep()
	w.rawString("(")
	w.needSP = false
	return w
}

// EndList writes ")".
func (w *Writer) EndList() *Writer {
	w.rawString(")")
	w.needSP = true
	return w
}

// canQuote reports whether s can be a quoted string: no CR, LF or NUL,
// and 8-bit only as UTF-8 in UTF8 mode.
func (w *Writer) canQuote(s string) bool {
	if len(s) > maxQuoted {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 || c == '\r' || c == '\n' || (c >= 0x80 && !w.UTF8) {
			return false
		}
	}
	return !w.UTF8 || utf8.ValidString(s)
}

// String writes s quoted when it can be, else as a literal.
func (w *Writer) String(s string) *Writer {
	if !w.canQuote(s) {
		return w.Literal([]byte(s))
	}
	return w.Quoted(s)
}

// Quoted writes s as a quoted string; the caller knows it can be one.
func (w *Writer) Quoted(s string) *Writer {
	w.sep()
	w.rawString(`"`)
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			w.rawString(s[start:i])
			w.rawString(`\`)
			start = i
		}
	}
	w.rawString(s[start:])
	w.rawString(`"`)
	return w
}

// NString writes s, or NIL if s is empty.
func (w *Writer) NString(s string) *Writer {
	if s == "" {
		return w.Nil()
	}
	return w.String(s)
}

// Literal writes b as a literal {n}.
func (w *Writer) Literal(b []byte) *Writer {
	w.LiteralHeader(int64(len(b)), false)
	w.raw(b)
	return w
}

// Literal8 writes b as a literal8 ~{n} (RFC 3516 section 4.3), for binary
// data with NUL bytes; only in answer to BINARY.
func (w *Writer) Literal8(b []byte) *Writer {
	w.LiteralHeader(int64(len(b)), true)
	w.raw(b)
	return w
}

// LiteralHeader writes "{n}" CRLF (or "~{n}" CRLF); the caller writes the
// n bytes next, with LiteralData.
func (w *Writer) LiteralHeader(n int64, binary bool) *Writer {
	w.sep()
	if binary {
		w.rawString("~")
	}
	w.rawString("{")
	var b [20]byte
	w.raw(strconv.AppendInt(b[:0], n, 10))
	w.rawString("}\r\n")
	return w
}

// LiteralData copies the n bytes of a literal whose header is written.
// A short read leaves the response broken, so it is a write error too:
// the connection must be closed.
func (w *Writer) LiteralData(r io.Reader, n int64) error {
	if w.Flush() != nil {
		return w.err
	}
	bp := copyPool.Get().(*[]byte)
	defer copyPool.Put(bp)
	m, err := io.CopyBuffer(writerOnly{w.w}, io.LimitReader(r, n), *bp)
	if err == nil && m < n {
		err = io.ErrUnexpectedEOF
	}
	w.err = err
	return err
}

var copyPool = sync.Pool{New: func() any { b := make([]byte, bufMax); return &b }}

// writerOnly hides a ReadFrom of the connection, so that CopyBuffer uses
// the pooled buffer.
type writerOnly struct{ io.Writer }

// Mailbox writes a mailbox name, encoded as the client expects it; INBOX
// as an atom.
func (w *Writer) Mailbox(name string) *Writer {
	if name == "INBOX" {
		return w.Atom(name)
	}
	return w.String(EncodeMailbox(name, w.UTF8))
}

// Flags writes a parenthesised flag list.
func (w *Writer) Flags(flags []string) *Writer {
	w.BeginList()
	for _, f := range flags {
		w.Atom(f)
	}
	return w.EndList()
}

// Status writes a complete status response: tag ("*" for untagged),
// status (OK, NO, BAD, PREAUTH, BYE), an optional response code with its
// arguments (e.g. "APPENDUID 38505 3955") and text.
func (w *Writer) Status(tag, status, code, text string) {
	w.rawString(tag)
	w.rawString(" ")
	w.rawString(status)
	if code != "" {
		w.rawString(" [")
		w.rawString(code)
		w.rawString("]")
	}
	if text == "" {
		text = status // resp-text needs text (RFC 9051 section 9)
	}
	w.rawString(" ")
	w.rawText(text)
	w.rawString("\r\n")
	w.needSP = false
}

// rawText writes human-readable text without CR, LF or NUL.
func (w *Writer) rawText(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] == '\r' || b[j] == '\n' || b[j] == 0 {
					b[j] = ' '
				}
			}
			w.raw(b)
			return
		}
	}
	w.rawString(s)
}

// Continue writes a continuation request "+ text".
func (w *Writer) Continue(text string) {
	if text == "" {
		text = "Ready"
	}
	w.rawString("+ ")
	w.rawText(text)
	w.rawString("\r\n")
	w.needSP = false
}

// ContinueBase64 writes a SASL challenge "+ base64" (RFC 9051 section
// 6.2.2); an empty challenge is "+ ".
func (w *Writer) ContinueBase64(b64 string) {
	w.rawString("+ ")
	w.rawString(b64)
	w.rawString("\r\n")
	w.needSP = false
}
