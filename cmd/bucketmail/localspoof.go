package main

import (
	"github.com/bucketmail/bucketmail/internal/authcheck"
)

// Values of --local-spoof.
const (
	localSpoofReject = "reject" // the edge refuses MAIL FROM in a local domain without SPF pass
	localSpoofJunk   = "junk"   // the edge accepts it; the worker files it to Junk
)

// edgeLocalSenders is the checker the edge asks at MAIL about a sender in
// a local domain: only with --local-spoof=reject. The worker files
// unauthenticated mail claiming a local domain to Junk either way.
func (d *deps) edgeLocalSenders() *authcheck.Checker {
	if d.cfg.LocalSpoof != localSpoofReject {
		return nil
	}
	return d.authChecker()
}
