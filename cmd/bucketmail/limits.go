package main

import (
	"flag"
	"log/slog"
	"net"
	"net/netip"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/proxyproto"
)

// Defaults of the abuse limits.
const (
	// defaultConnPerIPMinute is what a household or an office of 50
	// behind one address never reaches (clients reconnect, poll, retry),
	// and a scanner does; the concurrent caps (conns.go) do the rest.
	defaultConnPerIPMinute   = 600
	defaultAuthFailures      = 10
	defaultMessagesPerHour   = 500
	defaultRecipientsPerHour = 2000
)

// abuseConfig holds the abuse limits and the PROXY protocol sources of the
// edge and gateway roles.
type abuseConfig struct {
	// ProxyProtocolFrom lists the networks (CIDRs, comma-separated) whose
	// connections start with a PROXY protocol header; empty: none.
	ProxyProtocolFrom string
	proxyFrom         []netip.Prefix // parsed by check

	ConnPerIPMinute   int64
	AuthFailures      int64
	MessagesPerHour   int64
	RecipientsPerHour int64

	Conns connConfig // per listener and node
}

func (a *abuseConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&a.ProxyProtocolFrom, "proxy-protocol-from", "", "comma-separated `CIDRs` of TCP load balancers (e.g. a Linode NodeBalancer) whose connections start with a PROXY protocol v1/v2 header, on every listener, HTTP included; from them the header is required (read with a 5s deadline) and gives the client IP for logs, limits, Received: and SPF; from anyone else it is not trusted (empty: off)")
	fs.Int64Var(&a.ConnPerIPMinute, "limit-conn-per-ip-minute", defaultConnPerIPMinute, "connections per client IP per minute, SMTP, IMAP and POP3 together, counted in the store so every node shares them; a household or an office behind one address does not reach it, a scanner does; over it: SMTP 421 4.7.0, IMAP * BYE [UNAVAILABLE], POP3 -ERR [SYS/TEMP] instead of the greeting (temporary: clients retry, none reports a wrong password) (0: no limit)")
	fs.Int64Var(&a.AuthFailures, "limit-auth-failures", defaultAuthFailures, "failed SMTP/IMAP/POP3 authentications per client IP and per account in 15 minutes, counted before the password is checked (concurrent guesses count); from half of it each failure is answered after a growing delay (1s, 2s, ... at most 8s), at it the IP or account is blocked for the rest of the window: SMTP 454 4.7.0, IMAP NO [UNAVAILABLE], POP3 -ERR [AUTH]. The account limit does not apply to a client IP (IPv6: its /64) that logged in to the account in the last 30 days; see docs/security.md (0: no limit)")
	fs.Int64Var(&a.MessagesPerHour, "limit-messages-per-hour", defaultMessagesPerHour, "messages an authenticated user may submit per hour; over it MAIL gets 451 4.7.0 (0: no limit)")
	fs.Int64Var(&a.RecipientsPerHour, "limit-recipients-per-hour", defaultRecipientsPerHour, "recipients an authenticated user may submit to per hour; over it RCPT gets 452 4.7.0 (0: no limit)")
	a.Conns.register(fs)
}

func (a *abuseConfig) check() error {
	if a.ConnPerIPMinute < 0 || a.AuthFailures < 0 || a.MessagesPerHour < 0 || a.RecipientsPerHour < 0 {
		return usagef("negative limits are not allowed")
	}
	if err := a.Conns.check(); err != nil {
		return err
	}
	p, err := proxyproto.ParseCIDRs(a.ProxyProtocolFrom)
	if err != nil {
		return usagef("--proxy-protocol-from: %v", err)
	}
	a.proxyFrom = p
	return nil
}

// abuseLimits returns the limits the edge and gateways share.
func (d *deps) abuseLimits() *abuse.Limits {
	return abuse.New(d.store, abuse.Config{
		ConnPerIPMinute:   d.cfg.Abuse.ConnPerIPMinute,
		AuthFailures:      d.cfg.Abuse.AuthFailures,
		MessagesPerHour:   d.cfg.Abuse.MessagesPerHour,
		RecipientsPerHour: d.cfg.Abuse.RecipientsPerHour,
	}, d.log)
}

// withProxyProtocol wraps a bound listener so that connections from the
// trusted balancers have their PROXY header read (before any TLS).
func (d *deps) withProxyProtocol(name string, ln net.Listener) net.Listener {
	return proxyproto.NewListener(ln, d.cfg.Abuse.proxyFrom, 0, d.log.With(slog.String("listener", name)))
}
