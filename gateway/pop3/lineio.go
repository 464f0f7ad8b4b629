package pop3

import (
	"bufio"
	"errors"
	"strings"
)

// errLineTooLong is returned by readLine for a line over its limit; the
// rest of the line has been consumed, so the session can go on.
var errLineTooLong = errors.New("pop3: line too long")

// readLine reads one line of at most limit octets, line ending included,
// and returns it without the line ending. A bare LF ends a line too.
func readLine(r *bufio.Reader, limit int) (string, error) {
	var b strings.Builder
	tooLong := false
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong {
			if b.Len()+len(frag) > limit {
				tooLong = true
				b.Reset()
			} else {
				b.Write(frag)
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return "", errLineTooLong
			}
			s := strings.TrimSuffix(b.String(), "\n")
			return strings.TrimSuffix(s, "\r"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return "", err
		}
	}
}
