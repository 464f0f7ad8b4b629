package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/bucketmail/bucketmail/internal/autoconfig"
	"github.com/bucketmail/bucketmail/internal/domainkeys"
)

const dnsSynopsis = "bucketmail dns DOMAIN [--format zone|json] [--hostname HOST] [--ttl SECONDS] [listener address flags]"

// DNS policy choices, documented in docs/operations.md ("DNS and client
// autoconfiguration").
const (
	// defaultDNSTTL is the TTL of every record.
	defaultDNSTTL = 3600
	// spfValue authorises the domain's MX hosts and nothing else; "-all"
	// (fail) because every message of the domain leaves through this server
	// (RFC 7208 section 5.1).
	spfValue = "v=spf1 mx -all"
	// txtChunk is the longest character-string of a TXT record (RFC 1035
	// section 3.3): longer values are split, and receivers join them.
	txtChunk = 255
)

// dnsFlags are the flags of the dns command. The listener addresses have
// the same names, environment variables and defaults as the server's, so
// running dns in the server's environment describes that server.
type dnsFlags struct {
	hostname, format                                  string
	ttl                                               int
	submission, submissions, imap, imaps, pop3, pop3s string
	managesieve                                       string
}

func (f *dnsFlags) register(fs *flag.FlagSet) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	fs.StringVar(&f.hostname, "hostname", host, "public host name of the server (MX target, SRV targets, CNAME target)")
	fs.StringVar(&f.format, "format", "zone", "output format: zone (RFC 1035 master file lines) or json (list of {name, type, ttl, value})")
	fs.IntVar(&f.ttl, "ttl", defaultDNSTTL, "TTL of every record, in seconds")
	fs.StringVar(&f.submission, "submission-addr", ":587", "submission (STARTTLS) listen `address` (empty: off)")
	fs.StringVar(&f.submissions, "submissions-addr", ":465", "submission over implicit TLS listen `address` (empty: off)")
	fs.StringVar(&f.imap, "imap-addr", ":143", "IMAP (STARTTLS) listen `address` (empty: off)")
	fs.StringVar(&f.imaps, "imaps-addr", ":993", "IMAP over implicit TLS listen `address` (empty: off)")
	fs.StringVar(&f.pop3, "pop3-addr", ":110", "POP3 (STLS) listen `address` (empty: off)")
	fs.StringVar(&f.pop3s, "pop3s-addr", ":995", "POP3 over implicit TLS listen `address` (empty: off)")
	fs.StringVar(&f.managesieve, "managesieve-addr", ":4190", "ManageSieve (RFC 5804, STARTTLS) listen `address` (empty: off)")
}

// dnsRecord is one record. Name and Value carry no trailing dots and
// Value no quotes: the zone format adds them, the JSON stays as DNS
// provider APIs (and Terraform) take it.
type dnsRecord struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	TTL   int    `json:"ttl"`
	Value string `json:"value"`
}

func (a *app) cmdDNS(ctx context.Context, args []string) error {
	var f dnsFlags
	c, err := a.openAdmin("dns", dnsSynopsis, args, f.register)
	if err != nil {
		return err
	}
	return c.done(c.dns(ctx, a.stdout, f))
}

func (c *adminCmd) dns(ctx context.Context, w io.Writer, f dnsFlags) error {
	domain, err := c.domain()
	if err != nil {
		return err
	}
	host := strings.TrimSuffix(strings.ToLower(f.hostname), ".")
	switch {
	case !validDomain(host):
		return usagef("--hostname %q is not a host name", f.hostname)
	case f.format != "zone" && f.format != "json":
		return usagef("--format %q: want zone or json", f.format)
	case f.ttl <= 0:
		return usagef("--ttl must be positive")
	}
	local, err := c.store.HasDomain(ctx, domain)
	if err != nil {
		return err
	}
	if !local {
		return fmt.Errorf("%s is not a local domain (bucketmail domain add %s)", domain, domain)
	}
	keys, err := domainkeys.List(ctx, c.blobs, domain)
	if err != nil {
		return fmt.Errorf("dkim keys: %w", err)
	}
	recs := dnsRecords(domain, host, f, keys)
	for i := range recs {
		recs[i].TTL = f.ttl
	}
	if f.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	forwards, err := c.forwardingAliases(ctx, domain)
	if err != nil {
		return err
	}
	return writeZone(w, domain, recs, len(keys) == 0, forwards)
}

// forwardingAliases returns the aliases of domain that have a target
// outside our domains, sorted.
func (c *adminCmd) forwardingAliases(ctx context.Context, domain string) ([]string, error) {
	aliases, err := c.store.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for source, targets := range aliases {
		if !strings.EqualFold(domainOf(strings.TrimPrefix(source, "@")), domain) && !strings.EqualFold(source, "@"+domain) {
			continue
		}
		for _, t := range targets {
			local, err := c.store.HasDomain(ctx, strings.ToLower(domainOf(t)))
			if err != nil {
				return nil, err
			}
			if !local {
				out = append(out, source)
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// dnsRecords lists what to publish for domain served by host.
func dnsRecords(domain, host string, f dnsFlags, keys []domainkeys.Key) []dnsRecord {
	rec := func(name, typ, value string) dnsRecord { return dnsRecord{Name: name, Type: typ, Value: value} }
	postmaster := "mailto:postmaster@" + domain
	recs := []dnsRecord{
		rec(domain, "MX", "10 "+host),
		rec(domain, "TXT", spfValue),
	}
	for _, k := range keys {
		recs = append(recs, rec(k.Record(), "TXT", k.TXT))
	}
	recs = append(recs,
		// RFC 7489 section 6.3: quarantine, aggregate reports to postmaster.
		rec("_dmarc."+domain, "TXT", "v=DMARC1; p=quarantine; rua="+postmaster),
		// RFC 8461 section 3.1; the policy is served on the HTTP listener.
		rec("_mta-sts."+domain, "TXT", "v=STSv1; id="+autoconfig.MTASTSPolicyID(host)),
		rec("mta-sts."+domain, "CNAME", host),
		// RFC 8460 section 3: TLS failure reports.
		rec("_smtp._tls."+domain, "TXT", "v=TLSRPTv1; rua="+postmaster),
	)
	// RFC 6186 section 3 and RFC 8314 section 5.1: one SRV per service; a
	// disabled one has the target "." (not offered).
	for _, s := range []struct{ service, addr string }{
		{"_submissions", f.submissions}, {"_submission", f.submission},
		{"_imaps", f.imaps}, {"_imap", f.imap},
		{"_pop3s", f.pop3s}, {"_pop3", f.pop3},
		{"_sieve", f.managesieve}, // RFC 5804 section 1.8
	} {
		value := "0 0 0 ."
		if l, ok := autoconfig.ListenerFromAddr(autoconfig.SMTP, s.addr, false); ok {
			value = "0 1 " + strconv.Itoa(l.Port) + " " + host
		}
		recs = append(recs, rec(s.service+"._tcp."+domain, "SRV", value))
	}
	// Thunderbird (autoconfig.DOMAIN) and Outlook (autodiscover.DOMAIN and
	// the _autodiscover SRV) fetch over HTTPS (443) on these names.
	recs = append(recs,
		rec("autoconfig."+domain, "CNAME", host),
		rec("autodiscover."+domain, "CNAME", host),
		rec("_autodiscover._tcp."+domain, "SRV", "0 1 443 "+host),
	)
	return recs
}

// writeZone writes recs as RFC 1035 master file lines: absolute names,
// TXT values quoted and split into 255-octet strings.
// forwards, aliases sending copies outside, add a note on SPF.
func writeZone(w io.Writer, domain string, recs []dnsRecord, noDKIM bool, forwards []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "; DNS records for %s, by bucketmail dns\n", domain)
	if noDKIM {
		fmt.Fprintf(&b, "; no DKIM key yet: bucketmail dkim keygen %s, then run this again\n", domain)
	}
	if len(forwards) > 0 {
		fmt.Fprintf(&b, "; forwarding: the aliases %s send copies outside with the envelope sender rewritten to SRS0=...@%s;\n"+
			"; the SPF record below must allow every host that mail leaves from (with a relay, add its include:)\n",
			strings.Join(forwards, ", "), domain)
	}
	for _, r := range recs {
		fmt.Fprintf(&b, "%s\t%d\tIN\t%s\t%s\n", r.Name+".", r.TTL, r.Type, zoneValue(r))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// zoneValue is the RDATA of r in master file syntax.
func zoneValue(r dnsRecord) string {
	switch r.Type {
	case "TXT":
		return quoteTXT(r.Value)
	case "MX", "SRV", "CNAME":
		// The last field is a host name: make it absolute.
		if i := strings.LastIndexByte(r.Value, ' '); i >= 0 || r.Type == "CNAME" {
			host := r.Value[i+1:]
			if host != "." {
				host += "."
			}
			return r.Value[:i+1] + host
		}
	}
	return r.Value
}

// quoteTXT splits v into quoted character-strings of at most 255 octets
// each, escaping quote and backslash (RFC 1035 section 5.1).
func quoteTXT(v string) string {
	var parts []string
	for len(v) > txtChunk {
		parts = append(parts, v[:txtChunk])
		v = v[txtChunk:]
	}
	parts = append(parts, v)
	for i, p := range parts {
		p = strings.ReplaceAll(p, `\`, `\\`)
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `\"`) + `"`
	}
	return strings.Join(parts, " ")
}
