package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/sieve"
	"github.com/bucketmail/bucketmail/internal/store"
)

// maxAuthFailures ends a session after this many failed logins.
const maxAuthFailures = 3

// session is one client connection.
type session struct {
	srv       *Server
	conn      net.Conn
	r         *reader
	w         *bufio.Writer
	tls       bool
	user      *store.User
	authFails int
	log       *slog.Logger
}

func newSession(srv *Server, c net.Conn) *session {
	s := &session{srv: srv, conn: c, log: srv.log.With(slog.String("protocol", protocol),
		slog.String("client_ip", abuse.ClientIP(c.RemoteAddr())))}
	s.setConn(c)
	return s
}

func (s *session) setConn(c net.Conn) {
	s.conn = c
	s.r = &reader{br: bufio.NewReader(c)}
	s.w = bufio.NewWriter(c)
}

// serve greets with the capabilities (RFC 5804 section 1.7) and runs
// commands until LOGOUT, an error or the end of ctx.
func (s *session) serve(ctx context.Context) {
	s.capabilities()
	s.ok("", s.srv.cfg.Hostname+" ManageSieve ready")
	for ctx.Err() == nil {
		if s.w.Flush() != nil {
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(idleTimeout))
		name, args, err := s.r.command()
		if errors.Is(err, errSyntax) {
			s.no("", "Syntax error")
			continue
		}
		if err != nil {
			if errors.Is(err, errTooLong) {
				s.bye("", "Command too long")
				s.w.Flush()
			}
			return
		}
		if s.dispatch(ctx, name, args) {
			s.w.Flush()
			return
		}
	}
}

// dispatch runs one command and reports whether the session ends.
func (s *session) dispatch(ctx context.Context, name string, args []string) bool {
	switch name {
	case "CAPABILITY":
		s.capabilities()
		s.ok("", "")
	case "NOOP":
		s.noop(args)
	case "LOGOUT":
		s.ok("", "Bye")
		return true
	case "STARTTLS":
		return s.startTLS()
	case "AUTHENTICATE":
		return s.authenticate(ctx, args)
	default:
		if s.user == nil {
			s.no("", "Authenticate first")
			return false
		}
		s.scriptCommand(ctx, name, args)
	}
	return false
}

// capabilities writes the capability lines (RFC 5804 section 1.7).
func (s *session) capabilities() {
	s.line(`"IMPLEMENTATION" "bucketmail"`)
	s.line(`"SIEVE" ` + quote(strings.Join(sieveExtensions(), " ")))
	if s.srv.cfg.TLS != nil && !s.tls {
		s.line(`"STARTTLS"`)
	}
	if s.authAllowed() && s.user == nil {
		s.line(`"SASL" "PLAIN"`)
	} else {
		s.line(`"SASL" ""`)
	}
	s.line(fmt.Sprintf(`"MAXREDIRECTS" "%d"`, maxRedirects))
	s.line(`"VERSION" "1.0"`)
}

// sieveExtensions are the SIEVE capability: the extensions a script may
// require, without the comparators (RFC 5804 section 1.7).
func sieveExtensions() []string {
	var out []string
	for _, c := range sieve.Capabilities {
		if !strings.HasPrefix(c, "comparator-") {
			out = append(out, c)
		}
	}
	return out
}

// maxRedirects is the redirect limit scripts run with (sieve.Limits).
const maxRedirects = 4

func (s *session) authAllowed() bool { return s.tls || s.srv.cfg.AllowInsecureAuth }

// startTLS upgrades the connection and announces the capabilities again
// (RFC 5804 section 2.2).
func (s *session) startTLS() bool {
	if s.srv.cfg.TLS == nil || s.tls {
		s.no("", "TLS not available")
		return false
	}
	s.ok("", "Begin TLS negotiation now")
	if s.w.Flush() != nil {
		return true
	}
	tc := tls.Server(s.conn, s.srv.cfg.TLS)
	_ = tc.SetDeadline(time.Now().Add(s.srv.cfg.Conns.TLSHandshakeTimeout()))
	if err := tc.Handshake(); err != nil {
		s.log.Info("managesieve TLS handshake failed", slog.String("error", err.Error()))
		return true
	}
	_ = tc.SetDeadline(time.Time{})
	s.setConn(tc)
	s.tls = true
	s.capabilities()
	s.ok("", "TLS active")
	return false
}

// authenticate runs AUTHENTICATE "PLAIN" (RFC 5804 section 2.1, RFC
// 4616), with the initial response or after an empty challenge.
func (s *session) authenticate(ctx context.Context, args []string) bool {
	switch {
	case s.user != nil:
		s.no("", "Already authenticated")
		return false
	case !s.authAllowed():
		s.no("ENCRYPT-NEEDED", "Use STARTTLS first")
		return false
	case len(args) == 0 || !strings.EqualFold(args[0], "PLAIN") || len(args) > 2:
		s.no("", "Only PLAIN is supported")
		return false
	}
	resp := ""
	if len(args) == 2 {
		resp = args[1]
	} else {
		s.line(`""`)
		if s.w.Flush() != nil {
			return true
		}
		line, err := s.r.br.ReadString('\n')
		if err != nil {
			return true
		}
		resp = strings.Trim(strings.TrimSpace(line), `"`)
		if resp == "*" {
			s.no("", "Authentication cancelled")
			return false
		}
	}
	user, pass, ok := decodePlain(resp)
	if !ok {
		s.no("", "Malformed PLAIN response")
		return false
	}
	return s.login(ctx, user, pass)
}

// decodePlain splits a PLAIN response: authzid, authcid and password,
// the authzid empty or the authcid (no proxy logins).
func decodePlain(resp string) (user, pass string, ok bool) {
	b, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || (parts[0] != "" && !strings.EqualFold(parts[0], parts[1])) {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// login checks the credentials under the failed-login limits.
func (s *session) login(ctx context.Context, name, pass string) bool {
	if s.srv.login == nil {
		s.no("", "Authentication not configured")
		return false
	}
	name = auth.NormalizeName(name)
	ip := abuse.ClientIP(s.conn.RemoteAddr())
	att, ok := s.srv.cfg.Limits.BeginAuth(ctx, ip, name)
	if !ok {
		auth.LogAttempt(s.srv.log, auth.MsgBlocked, protocol, ip, name)
		s.no("TRYLATER", "Too many failed logins, try again later")
		return false
	}
	user, err := s.srv.login(ctx, name, pass)
	if errors.Is(err, auth.ErrFailed) {
		att.Failed(ctx)
		auth.LogAttempt(s.srv.log, auth.MsgFailed, protocol, ip, name)
		s.no("", "Authentication failed")
		s.authFails++
		if s.authFails >= maxAuthFailures {
			s.bye("", "Too many authentication failures")
			return true
		}
		return false
	}
	if err != nil {
		att.Abandon(ctx)
		s.log.Error("managesieve authentication error", slog.String("user", name), slog.String("error", err.Error()))
		s.no("TRYLATER", "Temporary failure, try again later")
		return false
	}
	att.Succeeded(ctx)
	s.user = &user
	s.log.Info("managesieve login", slog.String("user", user.Address))
	s.ok("", "Logged in")
	return false
}

func (s *session) line(l string) { s.w.WriteString(l + "\r\n") }

// noop answers NOOP; its optional argument comes back in a TAG response
// code (RFC 5804 section 2.11.2), which clients such as sieve-connect
// wait for to find the end of the capabilities after STARTTLS.
func (s *session) noop(args []string) {
	switch len(args) {
	case 0:
		s.ok("", "Done")
	case 1:
		s.ok("TAG "+quote(args[0]), "Done")
	default:
		s.no("", "Syntax error")
	}
}

// respond writes OK, NO or BYE with an optional response code and text
// (RFC 5804 section 1.3).
func (s *session) respond(kind, code, text string) {
	l := kind
	if code != "" {
		l += " (" + code + ")"
	}
	if text != "" {
		l += " " + quote(text)
	}
	s.line(l)
}

func (s *session) ok(code, text string)  { s.respond("OK", code, text) }
func (s *session) no(code, text string)  { s.respond("NO", code, text) }
func (s *session) bye(code, text string) { s.respond("BYE", code, text) }
