package authcheck

import (
	"context"
	"net"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/authres"
)

// checkSPF evaluates the SPF record of the MAIL FROM domain, or of the
// HELO name for the null sender (RFC 7208 section 2.4), and returns the
// result and the domain checked.
func (c *Checker) checkSPF(ctx context.Context, ip, helo, mailFrom string) (authres.ResultValue, string) {
	domain := helo
	if _, d, ok := strings.Cut(mailFrom, "@"); ok && d != "" {
		domain = d
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	addr := net.ParseIP(ip)
	if addr == nil || domain == "" {
		return authres.ResultNone, domain
	}
	r, _ := spf.CheckHostWithSender(addr, helo, mailFrom,
		spf.WithContext(ctx), spf.WithResolver(c.Resolver))
	return authres.ResultValue(r), domain
}
