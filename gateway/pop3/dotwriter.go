package pop3

import (
	"bytes"
	"errors"
	"io"
)

// dotWriter writes message bytes as a POP3 multi-line response body
// (RFC 1939 section 3): a line starting with "." gets another ".", and a
// bare LF becomes CRLF. Close ends the response with ".". It streams; it
// holds no more than the state of the current line.
type dotWriter struct {
	w         io.Writer
	lineStart bool // the next byte starts a line
	lastCR    bool // the last byte written was CR
}

func newDotWriter(w io.Writer) *dotWriter {
	return &dotWriter{w: w, lineStart: true}
}

var (
	crlf    = []byte("\r\n")
	lf      = []byte("\n")
	dot     = []byte(".")
	endMark = []byte(".\r\n")
)

// Write stuffs and normalizes p. It reports len(p) on success, as io.Copy expects.
func (d *dotWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if d.lineStart && p[0] == '.' {
			if _, err := d.w.Write(dot); err != nil {
				return 0, err
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if _, err := d.w.Write(p); err != nil {
				return 0, err
			}
			d.lineStart, d.lastCR = false, p[len(p)-1] == '\r'
			break
		}
		if _, err := d.w.Write(p[:i]); err != nil {
			return 0, err
		}
		hasCR := d.lastCR
		if i > 0 {
			hasCR = p[i-1] == '\r'
		}
		end := crlf
		if hasCR {
			end = lf
		}
		if _, err := d.w.Write(end); err != nil {
			return 0, err
		}
		d.lineStart, d.lastCR = true, false
		p = p[i+1:]
	}
	return n, nil
}

// Close ends the last line if it was not ended and writes the final ".".
func (d *dotWriter) Close() error {
	if !d.lineStart {
		if _, err := d.w.Write(crlf); err != nil {
			return err
		}
		d.lineStart, d.lastCR = true, false
	}
	_, err := d.w.Write(endMark)
	return err
}

// errTopDone stops the copy once TOP has written all it should.
var errTopDone = errors.New("pop3: top limit reached")

// topWriter passes on the header block, the blank line after it and then
// at most lines lines of the body (RFC 1939 section 7, TOP), and returns
// errTopDone once it has passed on the last byte it should. A message
// without a blank line is all header and is passed on whole.
type topWriter struct {
	w        io.Writer
	lines    int  // body lines still to pass on
	inHeader bool // still in the header block
	lineLen  int  // bytes of the current line so far
	lastCR   bool // the last byte of the current line was CR
	done     bool
}

func newTopWriter(w io.Writer, lines int) *topWriter {
	return &topWriter{w: w, lines: lines, inHeader: true}
}

func (t *topWriter) Write(p []byte) (int, error) {
	if t.done {
		return 0, errTopDone
	}
	for i, c := range p {
		if c != '\n' {
			t.lineLen++
			t.lastCR = c == '\r'
			continue
		}
		empty := t.lineLen == 0 || t.lineLen == 1 && t.lastCR
		t.lineLen, t.lastCR = 0, false
		switch {
		case t.inHeader:
			if empty {
				t.inHeader = false
				t.done = t.lines == 0
			}
		default:
			t.lines--
			t.done = t.lines == 0
		}
		if t.done {
			if _, err := t.w.Write(p[:i+1]); err != nil {
				return 0, err
			}
			return i + 1, errTopDone
		}
	}
	if _, err := t.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}
