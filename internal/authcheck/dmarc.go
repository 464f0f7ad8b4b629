package authcheck

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// checkDMARC evaluates the DMARC policy of the author domain (RFC 7489
// section 6.6) given the SPF and DKIM results in res, and fills in the
// DMARC fields of res.
func (c *Checker) checkDMARC(ctx context.Context, from []string, res *Result) {
	res.DMARC, res.Disposition = authres.ResultNone, DispositionNone
	if len(from) != 1 || from[0] == "" {
		// No single author domain: DMARC cannot be applied (section 6.6.1).
		if len(from) > 0 {
			res.DMARC = authres.ResultPermError
		}
		return
	}
	domain := from[0]
	res.FromDomain = domain
	org := OrganizationalDomain(domain)
	rec, err := c.lookupDMARC(ctx, domain)
	subdomain := false
	if errors.Is(err, dmarc.ErrNoPolicy) && org != domain {
		// Section 6.6.3: fall back to the organizational domain.
		rec, err = c.lookupDMARC(ctx, org)
		subdomain = true
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		return
	case dmarc.IsTempFail(err):
		res.DMARC = authres.ResultTempError
		return
	case err != nil:
		res.DMARC = authres.ResultPermError
		return
	}
	policy := rec.Policy
	if subdomain && rec.SubdomainPolicy != "" {
		policy = rec.SubdomainPolicy
	}
	res.Policy = string(policy)
	if res.SPF == authres.ResultPass && aligned(res.SPFDomain, domain, rec.SPFAlignment) {
		res.DMARC = authres.ResultPass
		return
	}
	for _, d := range res.DKIM {
		if d.Value == authres.ResultPass && aligned(d.Domain, domain, rec.DKIMAlignment) {
			res.DMARC = authres.ResultPass
			return
		}
	}
	res.DMARC = authres.ResultFail
	res.Disposition = disposition(policy, rec.Percent)
}

func (c *Checker) lookupDMARC(ctx context.Context, domain string) (*dmarc.Record, error) {
	return dmarc.LookupWithOptions(domain, &dmarc.LookupOptions{
		LookupTXT: func(name string) ([]string, error) { return c.Resolver.LookupTXT(ctx, name) },
	})
}

// disposition applies pct= (RFC 7489 section 6.6.4): a message outside the
// sampled percentage gets the next weaker policy.
func disposition(p dmarc.Policy, pct *int) Disposition {
	d := DispositionNone
	switch p {
	case dmarc.PolicyReject:
		d = DispositionReject
	case dmarc.PolicyQuarantine:
		d = DispositionQuarantine
	}
	if pct != nil && *pct < 100 && rand.IntN(100) >= *pct {
		switch d {
		case DispositionReject:
			d = DispositionQuarantine
		case DispositionQuarantine:
			d = DispositionNone
		}
	}
	return d
}

// aligned reports whether an authenticated domain is aligned with the
// author domain (RFC 7489 section 3.1): equal in strict mode, with the same
// organizational domain in relaxed mode (the default).
func aligned(authDomain, fromDomain string, mode dmarc.AlignmentMode) bool {
	a := strings.ToLower(strings.TrimSuffix(authDomain, "."))
	if a == "" {
		return false
	}
	if a == fromDomain {
		return true
	}
	if mode == dmarc.AlignmentStrict {
		return false
	}
	return OrganizationalDomain(a) == OrganizationalDomain(fromDomain)
}

// OrganizationalDomain is the registered domain of domain by the public
// suffix list (RFC 7489 section 3.2): one label more than the public
// suffix. A domain that is itself a public suffix is its own.
func OrganizationalDomain(domain string) string {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	org, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		return domain
	}
	return org
}
