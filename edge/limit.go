package edge

import (
	"errors"
	"io"

	"github.com/emersion/go-smtp"
)

// errStreamTooBig aborts the blob Put of a message over the size limit.
var errStreamTooBig = errors.New("edge: message exceeds the maximum size")

// limitReader passes the DATA stream through, counting it, and fails once
// more than max bytes came, so that the blob store's Put aborts and keeps
// nothing. It remembers why it failed: Put may not wrap reader errors.
type limitReader struct {
	r       io.Reader
	max     int64
	n       int64 // bytes passed through
	tooBig  bool
	readErr error // the client's stream failed (connection lost, BDAT reset)
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.tooBig {
		return 0, errStreamTooBig
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max || err == smtp.ErrDataTooLarge {
		// go-smtp enforces the same limit (Server.MaxMessageBytes) and says so
		// with ErrDataTooLarge.
		l.tooBig = true
		return 0, errStreamTooBig
	}
	if err != nil && err != io.EOF {
		l.readErr = err
	}
	return n, err
}
