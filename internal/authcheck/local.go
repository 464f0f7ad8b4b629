package authcheck

import (
	"context"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dmarc"
)

// SPF evaluates the SPF record of the domain of mailFrom (of helo for the
// null sender) for the client ip, as Check does (RFC 7208). The edge asks
// it at MAIL, before any data, about a sender in one of our own domains.
func (c *Checker) SPF(ctx context.Context, ip, helo, mailFrom string) authres.ResultValue {
	r, _ := c.checkSPF(ctx, ip, helo, mailFrom)
	return r
}

// AuthorAuthenticated reports whether the message has a single author
// domain and an SPF or DKIM pass aligned with it (RFC 7489 section 3.1,
// relaxed), whether or not that domain publishes a DMARC record. It is
// what a domain whose policy we know without DNS (one of ours: our users
// submit with AUTH and our outbound mail is DKIM-signed) must show.
func (r Result) AuthorAuthenticated() bool {
	if len(r.FromDomains) != 1 || r.FromDomain == "" {
		return false
	}
	if r.SPF == authres.ResultPass && aligned(r.SPFDomain, r.FromDomain, dmarc.AlignmentRelaxed) {
		return true
	}
	for _, d := range r.DKIM {
		if d.Value == authres.ResultPass && aligned(d.Domain, r.FromDomain, dmarc.AlignmentRelaxed) {
			return true
		}
	}
	return false
}
