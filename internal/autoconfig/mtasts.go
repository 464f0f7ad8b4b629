package autoconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// MTA-STS policy settings (RFC 8461 section 3.2). The mode is "testing":
// senders report failures (TLS-RPT) but still deliver, because the
// certificate may be the self-signed default, which "enforce" would turn
// into undeliverable mail. Switch by publishing a policy of your own once
// the certificate is real (docs/operations.md).
const (
	MTASTSMode   = "testing"
	MTASTSMaxAge = 86400 * time.Second
)

// MTASTSPolicy returns the policy text for hostname: the one MX this
// server announces. Lines end in CRLF (RFC 8461 section 3.2 allows LF or
// CRLF).
func MTASTSPolicy(hostname string) string {
	return fmt.Sprintf("version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %d\r\n",
		MTASTSMode, hostname, int(MTASTSMaxAge.Seconds()))
}

// MTASTSPolicyID is the id of the _mta-sts TXT record (RFC 8461 section
// 3.1): a hash of the policy, so it changes exactly when the policy does.
// It is 1 to 32 alphanumeric characters.
func MTASTSPolicyID(hostname string) string {
	sum := sha256.Sum256([]byte(MTASTSPolicy(hostname)))
	return hex.EncodeToString(sum[:])[:20]
}

// MTASTS serves the policy at /.well-known/mta-sts.txt. Senders fetch it
// over HTTPS from mta-sts.<domain> (RFC 8461 section 3.3): put a
// TLS-terminating proxy with a valid certificate in front. Only a Host of
// that form whose domain is local gets the policy; any other Host (an IP
// address, a name of someone else's) gets 404, so the listener does not
// vouch for domains it does not serve.
func MTASTS(cfg Config) http.Handler {
	policy := MTASTSPolicy(cfg.Hostname)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		domain, ok := mtaSTSDomain(r.Host)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if !cfg.domainAllowed(w, r, domain) {
			return
		}
		w.Header().Set("Content-Type", "text/plain") // RFC 8461 section 3.3
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write([]byte(policy))
	})
}

// mtaSTSDomain returns the policy domain of a request Host
// "mta-sts.<domain>[:port]" (RFC 8461 section 3.3), lower-cased; ok is
// false for any other Host.
func mtaSTSDomain(host string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	domain, ok := strings.CutPrefix(host, "mta-sts.")
	if !ok || !validDomain(domain) {
		return "", false
	}
	return domain, true
}
