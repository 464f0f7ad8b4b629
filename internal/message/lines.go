package message

import (
	"bufio"
	"errors"
	"io"
)

// lineReader reads a message line by line, keeping the offsets and newline
// counts that IMAP sizes and line counts are computed from. A line's text is
// kept only up to a cap, so a 1 MB line costs no more memory than a short one.
type lineReader struct {
	br  *bufio.Reader
	off int64 // bytes consumed so far
	nl  int64 // '\n' consumed so far
	err error // first read error; io.EOF at the end

	// The current line, valid until the next call to next.
	eof      bool   // no current line: the input is exhausted
	start    int64  // offset of the line's first byte
	startNL  int64  // '\n' before the line
	text     []byte // the line without its terminator, at most the cap given to next
	long     bool   // text was cut at the cap
	term     int    // length of the terminator: 2 (CRLF), 1 (LF) or 0 (end of input)
	prevTerm int    // term of the line before the current one
	buf      []byte // holds text when the line spans several buffer fills
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 16<<10)}
}

// next makes the following line current, keeping at most maxLine bytes of its
// text. It reports false at the end of the input or on a read error.
func (l *lineReader) next() bool {
	const max = maxLine
	l.prevTerm = l.term
	l.start, l.startNL = l.off, l.nl
	l.text, l.long, l.term = nil, false, 0
	if l.err != nil {
		l.eof = true
		return false
	}
	var last2 [2]byte // the line's last two bytes
	inPlace := true
	for {
		seg, err := l.br.ReadSlice('\n')
		l.off += int64(len(seg))
		switch {
		case len(seg) >= 2:
			last2 = [2]byte{seg[len(seg)-2], seg[len(seg)-1]}
		case len(seg) == 1:
			last2 = [2]byte{last2[1], seg[0]}
		}
		if err == nil && inPlace {
			// The common case: the whole line is in the buffer. It
			// stays valid until the next read.
			l.text = seg
		} else {
			if inPlace {
				l.buf = l.buf[:0]
				inPlace = false
			}
			if room := max + 2 - len(l.buf); room > 0 {
				l.buf = append(l.buf, seg[:min(room, len(seg))]...)
			}
			l.text = l.buf
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			l.err = err
			break
		}
	}
	if l.off == l.start {
		l.eof = true
		return false
	}
	if last2[1] == '\n' {
		l.nl++
		l.term = 1
		if last2[0] == '\r' {
			l.term = 2
		}
	}
	l.cut(max)
	return true
}

// cut strips the terminator from text and caps it at max bytes.
func (l *lineReader) cut(max int) {
	n := int(l.off-l.start) - l.term // length of the text proper
	if n > max {
		n = max
		l.long = true
	}
	l.text = l.text[:n]
}

// readErr returns the read error that ended the input, nil at a clean end.
func (l *lineReader) readErr() error {
	if l.err == nil || errors.Is(l.err, io.EOF) {
		return nil
	}
	return l.err
}
