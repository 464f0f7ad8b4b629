package engine

import (
	"context"
	"crypto/tls"
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

// builtin returns the engine's own handler of a command.
func (s *Server) builtin(name string) (Handler, []State) {
	switch name {
	case "CAPABILITY":
		return s.capability, anyState
	case "NOOP":
		return s.noop, anyState
	case "LOGOUT":
		return logout, anyState
	case "ID":
		return s.id, anyState
	case "ENABLE":
		return enable, []State{Authenticated} // RFC 9051 section 6.3.1
	case "LOGIN":
		return s.login, []State{NotAuthenticated}
	case "AUTHENTICATE":
		return s.authenticate, []State{NotAuthenticated}
	case "STARTTLS":
		return s.startTLS, []State{NotAuthenticated}
	case "IDLE":
		return s.idle, []State{Authenticated, Selected}
	case "COMPRESS":
		if s.cfg.Compress {
			return s.compress, []State{Authenticated, Selected}
		}
	}
	return nil, nil
}

func (s *Server) capabilities(c *Conn) []string {
	if s.cfg.Capabilities != nil {
		return append(s.cfg.Capabilities(c), s.compressCapability(c)...)
	}
	caps := []string{"IMAP4rev2", "IMAP4rev1", "LITERAL+", "ID", "ENABLE", "IDLE", "SASL-IR"}
	if c.state == NotAuthenticated {
		caps = append(caps, "AUTH=PLAIN")
		if s.cfg.TLS != nil && !c.tls {
			caps = append(caps, "STARTTLS")
		}
	}
	return append(caps, s.compressCapability(c)...)
}

func (s *Server) capability(ctx context.Context, c *Conn, cmd *wire.Command) error {
	w := c.w.Start().Atom("CAPABILITY")
	for _, cp := range s.capabilities(c) {
		w.Atom(cp)
	}
	w.End()
	return nil
}

func (s *Server) noop(ctx context.Context, c *Conn, cmd *wire.Command) error {
	if s.cfg.Poll != nil && c.state == Selected {
		return s.cfg.Poll(ctx, c, true)
	}
	return nil
}

// expungeAllowed: no EXPUNGE response after a command that answered with
// sequence numbers (RFC 9051 section 7.5.1).
func expungeAllowed(cmd *wire.Command) bool {
	switch cmd.Name {
	case "FETCH", "STORE", "SEARCH", "SORT", "THREAD":
		return cmd.UID
	}
	return true
}

func logout(ctx context.Context, c *Conn, cmd *wire.Command) error {
	c.w.Status("*", "BYE", "", "Logging out")
	c.state = Logout
	return nil
}

// id answers ID with the server's fields (RFC 2971 section 3.1).
func (s *Server) id(ctx context.Context, c *Conn, cmd *wire.Command) error {
	w := c.w.Start().Atom("ID")
	if len(s.cfg.ID) == 0 {
		w.Nil().End()
		return nil
	}
	w.BeginList()
	for _, p := range s.cfg.ID {
		w.String(p.Key)
		if p.Value == nil {
			w.Nil()
		} else {
			w.String(*p.Value)
		}
	}
	w.EndList().End()
	return nil
}

// enable turns on what the engine knows of the extensions asked for
// (RFC 5161 section 3.1): UTF8=ACCEPT (RFC 6855) here; the others are the
// handlers' to add (Config.Enable).
func enable(ctx context.Context, c *Conn, cmd *wire.Command) error {
	var done []string
	for _, cp := range cmd.Args.(*wire.Enable).Caps {
		switch cp {
		default:
			if c.srv.cfg.Enable != nil {
				done = append(done, c.srv.cfg.Enable(c, cp)...)
			}
		case "UTF8=ACCEPT", "IMAP4REV2":
			if !c.enabled[cp] {
				c.enabled[cp] = true
				c.w.UTF8 = true
				if cp == "IMAP4REV2" {
					cp = "IMAP4rev2" // as the capability is spelt
				}
				done = append(done, cp)
			}
		}
	}
	w := c.w.Start().Atom("ENABLED")
	for _, cp := range done {
		w.Atom(cp)
	}
	w.End()
	return nil
}

var errAuthFailed = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid credentials"}

func (s *Server) login(ctx context.Context, c *Conn, cmd *wire.Command) error {
	a := cmd.Args.(*wire.Login)
	return s.doLogin(ctx, c, a.Username, a.Password)
}

func (s *Server) doLogin(ctx context.Context, c *Conn, username, password string) error {
	if s.cfg.Login == nil {
		return errAuthFailed
	}
	if err := s.cfg.Login(ctx, c, username, password); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return err
		}
		return errAuthFailed
	}
	c.user = username
	c.state = Authenticated
	c.SetOK("CAPABILITY "+strings.Join(s.capabilities(c), " "), "Logged in")
	return nil
}

// authenticate runs AUTHENTICATE PLAIN (RFC 4616), with or without an
// initial response (RFC 4959).
func (s *Server) authenticate(ctx context.Context, c *Conn, cmd *wire.Command) error {
	a := cmd.Args.(*wire.Authenticate)
	if a.Mechanism != "PLAIN" {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Unsupported mechanism"}
	}
	resp := a.Initial
	if resp == nil {
		c.w.ContinueBase64("")
		if err := c.w.Flush(); err != nil {
			return err
		}
		line, err := c.r.ReadLine()
		if err != nil {
			return lineError(c, err)
		}
		if resp, err = wire.DecodeSASL(line); err != nil {
			if errors.Is(err, wire.ErrSASLCancel) {
				return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Authentication cancelled"}
			}
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Invalid base64"}
		}
	}
	// message = [authzid] NUL authcid NUL passwd
	parts := strings.Split(string(resp), "\x00")
	if len(parts) != 3 || (parts[0] != "" && parts[0] != parts[1]) {
		return errAuthFailed
	}
	return s.doLogin(ctx, c, parts[1], parts[2])
}

// startTLS answers OK, then makes the connection TLS (RFC 9051 section
// 6.2.1). Anything the client sent after the command is refused by
// the reader being made anew (command injection, RFC 9051 section 11.1).
func (s *Server) startTLS(ctx context.Context, c *Conn, cmd *wire.Command) error {
	if s.cfg.TLS == nil || c.tls {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "STARTTLS not available"}
	}
	c.w.Status(cmd.Tag, "OK", "", "Begin TLS negotiation now")
	if err := c.w.Flush(); err != nil {
		return err
	}
	tc := tls.Server(c.nc, s.cfg.TLS)
	c.nc.SetDeadline(time.Now().Add(s.cfg.Timeouts.PreLogin))
	if err := tc.HandshakeContext(ctx); err != nil {
		c.state = Logout
		return io.ErrUnexpectedEOF
	}
	tc.SetDeadline(time.Time{})
	c.tls = true
	c.setConn(tc)
	return errAnswered
}

// idle runs IDLE until DONE (RFC 2177 section 3).
func (s *Server) idle(ctx context.Context, c *Conn, cmd *wire.Command) error {
	c.w.Continue("idling")
	if err := c.w.Flush(); err != nil {
		return err
	}
	c.nc.SetReadDeadline(time.Now().Add(s.cfg.Timeouts.Idle))
	if ctx.Err() != nil {
		return s.idleEnded(ctx, c, ctx.Err(), false)
	}
	stop := make(chan struct{})
	idleDone := make(chan error, 1)
	if s.cfg.Idle != nil {
		go func() { idleDone <- s.cfg.Idle(ctx, c, stop) }()
	} else {
		idleDone <- nil
	}
	line, err := c.r.ReadLine()
	close(stop)
	ierr := <-idleDone
	hookFailed := ierr != nil && err == nil
	if hookFailed {
		err = ierr
	}
	if errors.As(err, new(*wire.Error)) && ctx.Err() == nil {
		return lineError(c, err)
	}
	if err != nil {
		return s.idleEnded(ctx, c, err, hookFailed)
	}
	if !strings.EqualFold(line, "DONE") {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Expected DONE"}
	}
	return nil
}

// idleEnded ends a session whose IDLE did not end with DONE: a shutdown,
// the IDLE timeout, a failed connection or (hook) a failed Idle hook.
func (s *Server) idleEnded(ctx context.Context, c *Conn, err error, hook bool) error {
	switch {
	case ctx.Err() != nil:
		c.w.Status("*", "BYE", "", "Server shutting down")
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.w.Status("*", "BYE", "", "Autologout; idle for too long")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), writeFailed(c, err):
	case badDeflate(c, err):
	case !hook: // the client's connection failed, as readFailed has it
	default:
		s.log.Error("imap idle", slog.Any("err", err))
		c.w.Status("*", "BYE", "", "Internal error")
	}
	c.state = Logout
	return errAnswered
}

// lineError answers a line read outside a command (a SASL response, DONE)
// that the reader refused: too long for the caps ends the session.
func lineError(c *Conn, err error) error {
	var e *wire.Error
	if !errors.As(err, &e) {
		return err
	}
	if e.Kind == wire.KindFatal {
		c.w.Status("*", "BYE", e.Code, e.Msg)
		c.state = Logout
		return errAnswered
	}
	return &imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCode(e.Code), Text: e.Msg}
}
