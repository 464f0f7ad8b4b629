package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// state is a POP3 session state (RFC 1939 section 3).
type state int

const (
	stateAuthorization state = iota
	stateTransaction
)

// session is one client connection.
type session struct {
	srv    *Server
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	tls    bool
	state  state
	log    *slog.Logger
	start  time.Time
	remote string

	userName  string // from USER, waiting for PASS
	user      store.User
	drop      *maildrop // set in the TRANSACTION state
	bad       int       // bad commands so far
	authFails int

	// counts for the session's log line
	retrieved, deleted int

	ahead    map[int]*prefetched // objects read ahead, by message number (prefetch.go)
	lastRetr int                 // number of the last RETR, 0 before the first
}

// Buffer sizes. Reading through a buffer is what lets the client pipeline
// (RFC 2449 section 6.6); the write buffer holds one full TLS record.
const (
	readBufferSize  = 4 << 10
	writeBufferSize = 16 << 10
)

func newSession(srv *Server, c net.Conn, isTLS bool) *session {
	s := &session{
		srv:    srv,
		tls:    isTLS,
		start:  time.Now(),
		remote: c.RemoteAddr().String(),
	}
	s.setConn(c)
	s.log = srv.log.With(slog.String("protocol", protocol), slog.String("remote", s.remote))
	return s
}

// setConn (re)binds the buffered reader and writer to c. After STLS
// anything the client sent in the clear before the handshake is dropped
// with the old reader (RFC 2595 section 4 and the STARTTLS injection
// attacks of CVE-2011-0411).
func (s *session) setConn(c net.Conn) {
	s.conn = c
	s.r = bufio.NewReaderSize(c, readBufferSize)
	s.w = bufio.NewWriterSize(c, writeBufferSize)
}

// serve runs the session until QUIT, an error or the client leaving.
func (s *session) serve(ctx context.Context) {
	defer s.finish()
	s.ok("%s POP3 ready", s.srv.cfg.Hostname)
	for {
		// Responses to pipelined commands go out together: flush only
		// when there is no further command waiting (RFC 2449 section 6.6).
		if s.r.Buffered() == 0 {
			if s.flush() != nil {
				return
			}
		}
		s.conn.SetDeadline(time.Now().Add(idleTimeout))
		// Checked after setting the deadline: Shutdown sets closed, then
		// moves the read deadline to now, so either this sees closed or
		// the read below returns at once (shutdown.go).
		if s.srv.isClosed() {
			s.sayShutdown()
			return
		}
		line, err := readLine(s.r, maxCommandLine)
		if errors.Is(err, errLineTooLong) {
			s.err("", "Line too long")
			if s.badCommand() {
				return
			}
			continue
		}
		if err != nil && s.srv.isClosed() {
			s.sayShutdown()
			return
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("pop3 read failed", slog.String("error", err.Error()))
			}
			return
		}
		cmd, err := parseCommand(line)
		if err != nil {
			s.err("", "Malformed command")
			if s.badCommand() {
				return
			}
			continue
		}
		if s.dispatch(ctx, cmd) {
			s.flush()
			return
		}
	}
}

// badCommand counts a bad command and reports whether the session must end.
func (s *session) badCommand() bool {
	s.bad++
	if s.bad < maxBadCommands {
		return false
	}
	s.err("", "Too many bad commands, closing connection")
	s.flush()
	return true
}

// finish releases the maildrop and logs the session.
func (s *session) finish() {
	if s.drop != nil {
		s.srv.locks.unlock(s.drop.userID)
	}
	s.log.Info("pop3 session",
		slog.String("user", s.user.Address),
		slog.Bool("tls", s.tls),
		slog.Int("retrieved", s.retrieved),
		slog.Int("deleted", s.deleted),
		slog.Duration("duration", time.Since(s.start)))
}

// dispatch runs cmd and reports whether the session must end.
func (s *session) dispatch(ctx context.Context, cmd command) bool {
	switch cmd.Name {
	case "CAPA":
		s.cmdCAPA()
		return false
	case "QUIT":
		s.cmdQUIT(ctx)
		return true
	}
	if s.state == stateAuthorization {
		switch cmd.Name {
		case "USER":
			return s.cmdUSER(cmd)
		case "PASS":
			return s.cmdPASS(ctx, cmd)
		case "AUTH":
			return s.cmdAUTH(ctx, cmd)
		case "STLS":
			return s.cmdSTLS()
		}
	} else {
		switch cmd.Name {
		case "STAT":
			return s.cmdSTAT(cmd)
		case "LIST":
			return s.cmdLIST(cmd)
		case "UIDL":
			return s.cmdUIDL(cmd)
		case "RETR":
			return s.cmdRETR(ctx, cmd)
		case "TOP":
			return s.cmdTOP(ctx, cmd)
		case "DELE":
			return s.cmdDELE(cmd)
		case "RSET":
			return s.cmdRSET(cmd)
		case "NOOP":
			return s.cmdNOOP(cmd)
		}
	}
	if knownCommands[cmd.Name] {
		s.err("", "Command not valid in this state")
	} else {
		s.err("", "Unknown command")
	}
	return s.badCommand()
}

// knownCommands are the commands this server implements in some state.
var knownCommands = map[string]bool{
	"USER": true, "PASS": true, "AUTH": true, "STLS": true,
	"STAT": true, "LIST": true, "UIDL": true, "RETR": true, "TOP": true,
	"DELE": true, "RSET": true, "NOOP": true,
}

// ok writes a +OK line.
func (s *session) ok(format string, args ...any) {
	l := statusOK
	if t := fmt.Sprintf(format, args...); t != "" {
		l += " " + t
	}
	s.line(l)
}

// err writes an -ERR line with an optional extended response code.
func (s *session) err(code, text string) {
	if code != "" {
		text = code + " " + text
	}
	s.line(statusErr + " " + text)
}

// line writes one response line. Write errors stick in the bufio.Writer
// and surface at the next flush.
func (s *session) line(l string) {
	s.w.WriteString(l)
	s.w.WriteString("\r\n")
}

func (s *session) flush() error {
	return s.w.Flush()
}

// startTLS upgrades the connection after "+OK" to STLS.
func (s *session) startTLS() error {
	if err := s.flush(); err != nil {
		return err
	}
	tc := tls.Server(s.conn, s.srv.cfg.TLS)
	ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.Conns.TLSHandshakeTimeout())
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	s.setConn(tc)
	s.tls = true
	return nil
}
