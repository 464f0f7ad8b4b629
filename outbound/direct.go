package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
)

// Limits of one direct attempt, so that a domain with many MX hosts or
// addresses does not hold a job for long (RFC 5321 section 5.1 asks for
// "at least two" tries).
const (
	maxMXHosts   = 5
	maxAddresses = 2 // per MX host
)

// direct delivers to the MX hosts of the recipients' domain (RFC 5321
// section 5.1).
type direct struct {
	d        *smtpDialer
	resolver *net.Resolver
	port     string
	tls      *tls.Config
}

func (t *direct) Deliver(ctx context.Context, env Envelope, body Body) []Result {
	hosts, fail := t.mxHosts(ctx, env)
	if fail != nil {
		return fail
	}
	var last []Result
	for _, h := range hosts {
		addrs, err := lookupHost(ctx, t.resolver, h)
		if err != nil {
			last = allResults(env.To, Temporary, 0, codeRoutingDNS, "", "looking up MX host %s: %v", h, err)
			continue
		}
		for _, a := range addrs {
			res, next := t.d.deliver(ctx, target{addr: net.JoinHostPort(a, t.port), serverName: h, tlsConfig: t.tls}, env, body)
			if !next || ctx.Err() != nil {
				return res
			}
			last = res
		}
	}
	return last
}

// mxHosts returns the hosts to try in order: MX records by preference,
// random among equals; the domain itself when it has no MX (the implicit
// MX, RFC 5321 section 5.1). A null MX (RFC 7505) fails at once.
func (t *direct) mxHosts(ctx context.Context, env Envelope) ([]string, []Result) {
	mxs, err := t.resolver.LookupMX(ctx, env.Domain)
	if err != nil {
		if !isNotFound(err) {
			return nil, allResults(env.To, Temporary, 0, codeRoutingDNS, "", "looking up MX of %s: %v", env.Domain, err)
		}
		if _, err := lookupHost(ctx, t.resolver, env.Domain); err != nil {
			if isNotFound(err) {
				return nil, allResults(env.To, Permanent, 550, codeBadDomain, "", "domain %s has no MX nor address records", env.Domain)
			}
			return nil, allResults(env.To, Temporary, 0, codeRoutingDNS, "", "looking up %s: %v", env.Domain, err)
		}
		return []string{env.Domain}, nil
	}
	if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
		// RFC 7505 section 4.2: 556 5.1.10 and no retry.
		return nil, allResults(env.To, Permanent, 556, codeNullMX, "", "domain %s does not accept mail (null MX, RFC 7505)", env.Domain)
	}
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	// Shuffle each run of equal preference (RFC 5321 section 5.1).
	for i := 0; i < len(mxs); {
		j := i
		for j < len(mxs) && mxs[j].Pref == mxs[i].Pref {
			j++
		}
		rand.Shuffle(j-i, func(a, b int) { mxs[i+a], mxs[i+b] = mxs[i+b], mxs[i+a] })
		i = j
	}
	var hosts []string
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h == "" || slices.Contains(hosts, h) {
			continue
		}
		hosts = append(hosts, h)
		if len(hosts) == maxMXHosts {
			break
		}
	}
	return hosts, nil
}

// lookupHost resolves host (an address passes through), at most
// maxAddresses of them.
func lookupHost(ctx context.Context, r *net.Resolver, host string) ([]string, error) {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return []string{ip.String()}, nil
	}
	addrs, err := r.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs[:min(len(addrs), maxAddresses)], nil
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
