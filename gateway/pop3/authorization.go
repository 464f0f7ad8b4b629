package pop3

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// implementation is the IMPLEMENTATION capability (RFC 2449 section 6.9).
const implementation = "bucketmail"

// authAllowed reports whether credentials may be sent on this connection
// (RFC 2595 section 2.1: not in the clear unless configured so).
func (s *session) authAllowed() bool {
	return s.tls || s.srv.cfg.AllowInsecureAuth
}

// canSTLS reports whether STLS would be accepted now.
func (s *session) canSTLS() bool {
	return !s.tls && s.srv.cfg.TLS != nil && s.state == stateAuthorization
}

// cmdCAPA lists the capabilities (RFC 2449 section 5). USER, SASL and STLS
// are listed only when they would be accepted, and only before login.
func (s *session) cmdCAPA() {
	s.ok("Capability list follows")
	caps := []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"}
	if s.state == stateAuthorization && s.authAllowed() {
		caps = append(caps, "USER", "SASL PLAIN")
	}
	if s.canSTLS() {
		caps = append(caps, "STLS")
	}
	caps = append(caps, "IMPLEMENTATION "+implementation)
	for _, c := range caps {
		s.line(c)
	}
	s.line(".")
}

// cmdSTLS starts TLS (RFC 2595 section 4). The session stays in the
// AUTHORIZATION state and forgets any USER given before.
func (s *session) cmdSTLS() bool {
	if !s.canSTLS() {
		s.err("", "STLS not available")
		return s.badCommand()
	}
	s.ok("Begin TLS negotiation")
	if err := s.startTLS(); err != nil {
		s.log.Info("pop3 stls handshake failed", slog.String("error", err.Error()))
		return true
	}
	s.userName = ""
	return false
}

// refuseInsecure answers a login attempt made in the clear.
func (s *session) refuseInsecure() bool {
	s.err(codeAuth, "Plaintext authentication disallowed on non-secure connections, use STLS")
	return s.badCommand()
}

// cmdUSER takes the user name (RFC 1939 section 7). It does not tell
// whether the user exists.
func (s *session) cmdUSER(cmd command) bool {
	if !s.authAllowed() {
		return s.refuseInsecure()
	}
	name := strings.TrimSpace(cmd.Arg)
	if name == "" {
		s.err("", "Missing user name")
		return s.badCommand()
	}
	s.userName = name
	s.ok("Send PASS")
	return false
}

// cmdPASS logs in with the user of the previous USER. The password is the
// rest of the line, spaces included (RFC 1939 section 7).
func (s *session) cmdPASS(ctx context.Context, cmd command) bool {
	if !s.authAllowed() {
		return s.refuseInsecure()
	}
	if s.userName == "" {
		s.err("", "USER first")
		return s.badCommand()
	}
	name := s.userName
	s.userName = ""
	return s.login(ctx, name, cmd.Arg)
}

// cmdAUTH runs a SASL exchange (RFC 5034). Only PLAIN (RFC 4616) is offered:
// it is the mechanism every client has, and it runs over TLS.
func (s *session) cmdAUTH(ctx context.Context, cmd command) bool {
	if !s.authAllowed() {
		return s.refuseInsecure()
	}
	args := cmd.Args()
	if len(args) == 0 {
		// The pre-RFC 5034 form that lists mechanisms; some clients use it.
		s.ok("Supported SASL mechanisms follow")
		s.line("PLAIN")
		s.line(".")
		return false
	}
	if !strings.EqualFold(args[0], "PLAIN") || len(args) > 2 {
		s.err("", "Unsupported SASL mechanism")
		return s.badCommand()
	}
	var resp string
	if len(args) == 2 {
		resp = args[1]
		if resp == "=" { // RFC 5034 section 4: an empty initial response
			resp = ""
		}
	} else {
		s.line(continuation)
		if s.flush() != nil {
			return true
		}
		line, err := readLine(s.r, maxSASLLine)
		if err != nil && !errors.Is(err, errLineTooLong) {
			return true
		}
		if err != nil {
			s.err("", "Response too long")
			return s.badCommand()
		}
		if line == "*" {
			s.err("", "Authentication cancelled")
			return false
		}
		resp = line
	}
	user, pass, ok := decodePlain(resp)
	if !ok {
		s.err("", "Malformed SASL response")
		return s.badCommand()
	}
	return s.login(ctx, user, pass)
}

// decodePlain decodes a base64 PLAIN response "authzid NUL authcid NUL
// password" (RFC 4616 section 2). An authzid other than the authcid is
// refused: nobody may act for someone else.
func decodePlain(resp string) (user, pass string, ok bool) {
	b, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || parts[1] == "" {
		return "", "", false
	}
	if parts[0] != "" && !strings.EqualFold(parts[0], parts[1]) {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// login checks the credentials, locks the maildrop and takes its snapshot.
// The name is normalised once, for the limits and the directory alike. It
// reports whether the session must end.
func (s *session) login(ctx context.Context, name, pass string) bool {
	if s.srv.login == nil {
		s.err(codeSysPerm, "Authentication not configured")
		return false
	}
	name = auth.NormalizeName(name)
	att, ok := s.beginLogin(ctx, name)
	if !ok {
		return false
	}
	user, err := s.srv.login(ctx, name, pass)
	if errors.Is(err, auth.ErrFailed) {
		s.authFails++
		s.loginFailed(ctx, att, name)
		s.err(codeAuth, "Authentication failed")
		if s.authFails >= maxAuthFailures {
			s.err("", "Too many authentication failures, closing connection")
			return true
		}
		return false
	}
	if err != nil {
		att.Abandon(ctx)
		s.log.Error("pop3 authentication error", slog.String("user", name), slog.String("error", err.Error()))
		s.err(codeSysTemp, "Temporary failure, try again later")
		return false
	}
	att.Succeeded(ctx)
	// Lock before the snapshot, so that it cannot predate the UPDATE of a
	// session that held the lock (RFC 1939 section 8).
	if !s.srv.locks.tryLock(user.ID) {
		s.log.Info("pop3 maildrop in use", slog.String("user", user.Address))
		s.err(codeInUse, "Maildrop already locked by another session")
		return false
	}
	drop, err := openMaildrop(ctx, s.srv.cfg.Store, user.ID)
	if err != nil {
		s.srv.locks.unlock(user.ID)
		s.log.Error("pop3 maildrop failed", slog.String("user", user.Address), slog.String("error", err.Error()))
		s.sysError(err, "Cannot open maildrop")
		return false
	}
	s.user, s.drop, s.state = user, drop, stateTransaction
	s.log.Info("pop3 login", slog.String("user", user.Address), slog.Int("messages", len(drop.msgs)))
	n, size := drop.stat()
	s.ok("Logged in, maildrop has %d messages (%d octets)", n, size)
	return false
}

// sysError answers a storage failure with SYS/TEMP or SYS/PERM.
func (s *session) sysError(err error, text string) {
	code := codeSysTemp
	if fault.IsPermanent(err) {
		code = codeSysPerm
	}
	s.err(code, text)
}
