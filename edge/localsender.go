package edge

import (
	"context"
	"log/slog"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-smtp"
)

// errLocalSender refuses a port-25 MAIL FROM in one of our domains from a
// client that SPF does not authorise for it.
var errLocalSender = reply(c550MailboxUnavail, e571Denied,
	"Sender address in a local domain: authenticate on the submission port")

// errLocalSenderTemp answers the same when SPF could not be evaluated
// (temperror): 451 4.4.3 as RFC 7208 section 8.6 suggests.
var errLocalSenderTemp = reply(c451LocalError, smtp.EnhancedCode{4, 4, 3},
	"Cannot check SPF for a sender in a local domain now, try again later")

// checkLocalSender accepts on port 25 a MAIL FROM in a local domain only
// when the client IP passes SPF for that domain (RFC 7208). Our own users
// submit with AUTH on 587/465 and our outbound mail reaches local
// recipients without SMTP, so unauthenticated mail claiming our domain is
// a forgery unless the domain's SPF record names the client (another
// system of the domain's owner). The null sender (RFC 5321 section 4.5.5)
// and remote domains pass; the worker files header From: forgeries to Junk.
func (s *session) checkLocalSender(helo, from string) error {
	c := s.srv.cfg.LocalSenders
	if c == nil || s.mode != MX || from == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	local, err := s.localDomain(ctx, domainOf(from))
	switch {
	case err != nil:
		return s.storageFailure(nil, "mail", err)
	case !local:
		return nil
	}
	spf := c.SPF(ctx, s.clientIP, helo, from)
	if spf == authres.ResultPass {
		return nil
	}
	s.reject("local_sender")
	s.srv.cfg.Log.Warn("smtp local sender refused", slog.String("client_ip", s.clientIP),
		slog.String("helo", helo), slog.String("from", from), slog.String("spf", string(spf)))
	if spf == authres.ResultTempError {
		// RFC 7208 section 8.6: a DNS failure is not a verdict; a system
		// the SPF record names must not lose its mail to it.
		return errLocalSenderTemp
	}
	return errLocalSender
}
