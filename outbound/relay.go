package outbound

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
)

// hostTransport sends everything to one HOST:PORT: a smarthost
// (--relay-host) or a static route (--transport DOMAIN=HOST:PORT).
type hostTransport struct {
	d          *smtpDialer
	resolver   *net.Resolver
	host, port string
	mode       tlsMode
	tls        *tls.Config
	user, pass string
}

func (t *hostTransport) Deliver(ctx context.Context, env Envelope, body Body) []Result {
	addrs, err := lookupHost(ctx, t.resolver, t.host)
	if err != nil {
		return allResults(env.To, Temporary, 0, codeRoutingDNS, "", "looking up %s: %v", t.host, err)
	}
	var res []Result
	for _, a := range addrs {
		var next bool
		res, next = t.d.deliver(ctx, target{addr: net.JoinHostPort(a, t.port), serverName: t.host,
			tls: t.mode, tlsConfig: t.tls, user: t.user, pass: t.pass}, env, body)
		if !next || ctx.Err() != nil {
			break
		}
	}
	return res
}

// SplitHostPort splits a relay or route destination HOST:PORT; the host
// may be bracketed as in Postfix ("[smtp.example.com]:587").
func SplitHostPort(hostport string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(hostport)
	if err != nil {
		return "", "", fmt.Errorf("%q: want HOST:PORT", hostport)
	}
	host = strings.Trim(host, "[]")
	if host == "" || port == "" {
		return "", "", fmt.Errorf("%q: want HOST:PORT", hostport)
	}
	return host, port, nil
}

// ParseRoute parses a --transport value DOMAIN=HOST:PORT.
func ParseRoute(v string) (domain, hostport string, err error) {
	domain, hostport, ok := strings.Cut(v, "=")
	domain = strings.ToLower(strings.TrimSpace(domain))
	if !ok || domain == "" || strings.ContainsAny(domain, "@ ") {
		return "", "", fmt.Errorf("%q: want DOMAIN=HOST:PORT", v)
	}
	if _, _, err := SplitHostPort(hostport); err != nil {
		return "", "", err
	}
	return domain, hostport, nil
}
