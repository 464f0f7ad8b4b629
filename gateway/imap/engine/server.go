package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// Server runs IMAP sessions over connections it is given.
type Server struct {
	cfg Config
	log *slog.Logger
}

// New makes a Server from cfg.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	return &Server{cfg: cfg, log: cfg.Log}
}

// Timeouts are the timeouts in force, after defaults and minimums.
func (s *Server) Timeouts() Timeouts { return s.cfg.Timeouts }

// Serve runs one session on nc until the client logs out, the connection
// fails, a timeout ends it, or ctx is done. It closes nc.
func (s *Server) Serve(ctx context.Context, nc net.Conn) { s.ServeSession(ctx, nc, nil) }

// ServeSession is Serve with the handlers' state of the connection
// (Conn.Session) given from the start.
func (s *Server) ServeSession(ctx context.Context, nc net.Conn, session any) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &Conn{srv: s, enabled: map[string]bool{}, session: session}
	c.setConn(nc)
	defer func() { c.nc.Close() }()
	// A server shutting down interrupts the read in progress.
	stop := context.AfterFunc(ctx, func() { c.nc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	c.w.Status("*", "OK", "CAPABILITY "+strings.Join(s.capabilities(c), " "), s.cfg.Hostname+" IMAP ready")
	for c.state != Logout {
		if c.w.Flush() != nil {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(s.timeout(c)))
		var cmd *wire.Command
		err := ctx.Err() // after the deadline: a shutdown's may have been overwritten
		if err == nil {
			cmd, err = c.r.ReadCommand()
		}
		if err != nil {
			if !s.readFailed(ctx, c, err) {
				return
			}
			continue
		}
		s.run(ctx, c, cmd)
	}
	c.w.Flush()
}

// setConn (re)makes the reader and writer over nc: at the start and after
// STARTTLS.
func (c *Conn) setConn(nc net.Conn) {
	c.nc = nc
	c.w = wire.NewWriter(nc)
	c.r = wire.NewReader(nc, c.srv.cfg.Limits, func() error {
		c.w.Continue("")
		return c.w.Flush()
	})
	c.r.Literal = func(info wire.LiteralInfo) error {
		if !info.Message {
			return nil
		}
		// Refused before the client sends it: an APPEND that cannot run.
		ch, ok := c.srv.cfg.Commands["APPEND"]
		if !ok {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Command not supported"}
		}
		if !c.allowed(ch.States) {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "APPEND not allowed " + c.state.String()}
		}
		if c.srv.cfg.CheckAppend != nil {
			return c.srv.cfg.CheckAppend(c, info)
		}
		return nil
	}
}

func (s *Server) timeout(c *Conn) time.Duration {
	if c.state == NotAuthenticated {
		return s.cfg.Timeouts.PreLogin
	}
	return s.cfg.Timeouts.Authenticated
}

// readFailed answers a command that could not be read; false ends the
// session.
func (s *Server) readFailed(ctx context.Context, c *Conn, err error) bool {
	var e *wire.Error
	if !errors.As(err, &e) {
		switch {
		case ctx.Err() != nil:
			c.w.Status("*", "BYE", "", "Server shutting down")
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.w.Status("*", "BYE", "", "Autologout; idle for too long")
		case badDeflate(c, err):
		}
		c.w.Flush()
		return false
	}
	tag := e.Tag
	if tag == "" {
		tag = "*"
	}
	switch e.Kind {
	case wire.KindFatal:
		c.w.Status("*", "BYE", e.Code, e.Msg)
		c.w.Flush()
		return false
	case wire.KindRefused:
		s.answer(c, tag, e.Command, e.Err)
	case wire.KindUnknown:
		c.w.Status(tag, "BAD", "", "Unknown command")
	default:
		c.w.Status(tag, "BAD", e.Code, "Syntax error: "+e.Msg)
	}
	return true
}

// run dispatches one command and answers it.
func (s *Server) run(ctx context.Context, c *Conn, cmd *wire.Command) {
	c.okCode, c.okText = "", ""
	h, states := s.builtin(cmd.Name)
	if h == nil {
		ch, ok := s.cfg.Commands[cmd.Name]
		if !ok {
			c.w.Status(cmd.Tag, "BAD", "", "Command not supported")
			return
		}
		h, states = ch.Handler, ch.States
	}
	if !c.allowed(states) {
		c.w.Status(cmd.Tag, "BAD", "", cmd.FullName()+" not allowed "+c.state.String())
		return
	}
	err := h(ctx, c, cmd)
	if err == nil && s.cfg.Poll != nil && c.state == Selected && cmd.Name != "NOOP" {
		err = s.cfg.Poll(ctx, c, expungeAllowed(cmd))
	}
	s.answer(c, cmd.Tag, cmd.FullName(), err)
}

// answer writes the tagged response for err.
func (s *Server) answer(c *Conn, tag, name string, err error) {
	if errors.Is(err, errAnswered) {
		return
	}
	if err == nil {
		text := c.okText
		if text == "" {
			text = name + " completed"
		}
		c.w.Status(tag, "OK", c.okCode, text)
		return
	}
	if errors.As(err, new(*wire.Error)) { // from Reader.NextMessage
		if !s.readFailed(context.Background(), c, err) {
			c.state = Logout
		}
		return
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		typ := "NO"
		if ie.Type == imap.StatusResponseTypeBad {
			typ = "BAD"
		}
		text := ie.Text
		if text == "" {
			text = name + " failed"
		}
		c.w.Status(tag, typ, string(ie.Code), text)
		return
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		c.state = Logout // the client is gone
		return
	}
	if badDeflate(c, err) {
		return
	}
	if errors.Is(err, context.Canceled) {
		c.w.Status("*", "BYE", "", "Server shutting down")
		c.state = Logout
		return
	}
	if writeFailed(c, err) {
		c.state = Logout // the client is gone
		return
	}
	s.log.Error("imap command", slog.String("command", name), slog.Any("err", err))
	c.w.Status(tag, "NO", "SERVERBUG", name+" failed")
}

// writeFailed reports whether err is the failure of a write to the
// client (it is then the Writer's sticky error).
func writeFailed(c *Conn, err error) bool {
	werr := c.w.Flush()
	return werr != nil && errors.Is(err, werr)
}

// errAnswered: the handler wrote its tagged response itself.
var errAnswered = errors.New("answered")
