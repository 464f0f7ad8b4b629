package pop3

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// cmdRETR sends a whole message (RFC 1939 section 5).
func (s *session) cmdRETR(ctx context.Context, cmd command) bool {
	args := cmd.Args()
	if len(args) != 1 {
		return s.syntaxError()
	}
	e, n, problem := s.drop.lookup(args[0])
	if e == nil {
		s.err("", problem)
		return false
	}
	obj, _ := s.takePrefetched(ctx, n)
	if n == s.lastRetr+1 && s.lastRetr > 0 {
		// Two in a row: the client is downloading in order.
		s.prefetch(ctx, n)
	}
	s.lastRetr = n
	ok, end := s.send(ctx, e, -1, obj)
	if ok {
		e.retrieved = true
		s.retrieved++
	}
	return end
}

// cmdTOP sends the header and the first lines of the body (RFC 1939
// section 7).
func (s *session) cmdTOP(ctx context.Context, cmd command) bool {
	args := cmd.Args()
	if len(args) != 2 {
		return s.syntaxError()
	}
	lines, ok := parseNumber(args[1])
	if !ok {
		return s.syntaxError()
	}
	e, _, problem := s.drop.lookup(args[0])
	if e == nil {
		s.err("", problem)
		return false
	}
	_, end := s.send(ctx, e, lines, nil)
	return end
}

// send streams Prefix + object of e as a multi-line response, the whole
// message when lines < 0, else as TOP does. It reports whether the message
// was sent and whether the session must end: a failure in the middle of a
// response cannot be reported, only the connection closed. obj, when not
// nil, is the object already read (prefetch.go).
func (s *session) send(ctx context.Context, e *entry, lines int, obj io.Reader) (sent, end bool) {
	var rc io.ReadCloser = io.NopCloser(obj)
	var err error
	if obj == nil {
		rc, err = s.srv.cfg.Blobs.Get(ctx, e.blobKey, 0, -1)
	}
	if err != nil {
		s.log.Error("pop3 blob read failed", slog.String("key", e.blobKey), slog.String("error", err.Error()))
		if errors.Is(err, blob.ErrNotFound) {
			s.err(codeSysPerm, "Message is no longer available")
		} else {
			s.sysError(err, "Cannot read message, try again later")
		}
		return false, false
	}
	defer rc.Close()
	if lines < 0 {
		s.ok("%d octets", e.size)
	} else {
		s.ok("Top of message follows")
	}
	dw := newDotWriter(s.w)
	var dst io.Writer = dw
	if lines >= 0 {
		dst = newTopWriter(dw, lines)
	}
	_, err = dst.Write(e.prefix)
	if err == nil {
		_, err = io.Copy(dst, rc)
	}
	if err != nil && !errors.Is(err, errTopDone) {
		s.log.Error("pop3 sending message failed", slog.String("key", e.blobKey), slog.String("error", err.Error()))
		return false, true
	}
	if err := dw.Close(); err != nil {
		return false, true
	}
	return true, false
}
