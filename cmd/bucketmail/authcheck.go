package main

import (
	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/resolver"
)

// Values of --dmarc-reject.
const (
	dmarcJunk   = "junk"   // the worker files DMARC failures to Junk
	dmarcReject = "reject" // the edge refuses p=reject failures with 550
)

// authChecker is the SPF/DKIM/DMARC checker of port-25 mail; its lookups
// go to --dns-resolver, their answers kept for --dns-cache-ttl in one cache
// that the edge and the worker of a process share.
func (d *deps) authChecker() *authcheck.Checker {
	if d.dns == nil {
		d.dns = resolver.NewCache(resolver.New(d.cfg.DNSResolver), d.cfg.DNSCacheTTL)
	}
	return &authcheck.Checker{Resolver: d.dns, Hostname: d.cfg.Hostname}
}

// edgeDMARCChecker is the checker the edge runs after DATA: only with
// --dmarc-reject=reject.
func (d *deps) edgeDMARCChecker() *authcheck.Checker {
	if d.cfg.DMARCReject != dmarcReject {
		return nil
	}
	return d.authChecker()
}
