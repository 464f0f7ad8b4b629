// Package autoconfig serves what mail clients and sending servers fetch
// over HTTP to configure themselves: Thunderbird's autoconfig
// (config-v1.1.xml), Outlook's POX autodiscover, and the MTA-STS policy
// (RFC 8461). Every answer is built from the listeners actually configured.
package autoconfig

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Protocol is a client-facing protocol.
type Protocol string

// The protocols a listener serves.
const (
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
	SMTP Protocol = "smtp" // submission only: clients never submit on port 25
	// ManageSieve (RFC 5804) is the filter-editing protocol. config-v1.1
	// has no field of its own for it: it is listed as an incomingServer of
	// type "managesieve" after IMAP and POP3 (see clientConfig).
	ManageSieve Protocol = "managesieve"
)

// Listener is one client-facing listener: its protocol, its public port
// and whether TLS is implicit (RFC 8314) or STARTTLS.
type Listener struct {
	Protocol    Protocol
	Port        int
	ImplicitTLS bool
}

// Config is what the handlers describe.
type Config struct {
	// Hostname is the server name clients connect to (and the MTA-STS mx).
	Hostname string
	// Listeners are the configured client listeners; order does not
	// matter: implicit TLS is listed first (RFC 8314 section 3).
	Listeners []Listener
	// HasDomain, when set, limits answers to local domains; others get 404.
	HasDomain func(ctx context.Context, domain string) (bool, error)
	Log       *slog.Logger // nil discards
}

// ListenerFromAddr makes a Listener from a listen address such as ":587".
// ok is false when addr is empty (the listener is off) or has no port.
func ListenerFromAddr(p Protocol, addr string, implicitTLS bool) (Listener, bool) {
	if addr == "" {
		return Listener{}, false
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Listener{}, false
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return Listener{}, false
	}
	return Listener{Protocol: p, Port: n, ImplicitTLS: implicitTLS}, true
}

// Register adds every handler to mux at its well-known paths. Without
// listeners (a worker-only process) only the MTA-STS policy is served.
func Register(mux *http.ServeMux, cfg Config) {
	mux.Handle("GET /.well-known/mta-sts.txt", MTASTS(cfg))
	if len(cfg.Listeners) == 0 {
		return
	}
	tb := Thunderbird(cfg)
	mux.Handle("GET /.well-known/autoconfig/mail/config-v1.1.xml", tb)
	mux.Handle("GET /mail/config-v1.1.xml", tb)
	ol := Outlook(cfg)
	mux.Handle("/autodiscover/autodiscover.xml", ol)
	mux.Handle("/Autodiscover/Autodiscover.xml", ol)
}

// ordered returns the listeners of p, implicit TLS first (RFC 8314
// section 3: it is preferred), then by port.
func (c Config) ordered(p Protocol) []Listener {
	var out []Listener
	for _, implicit := range []bool{true, false} {
		for _, l := range c.Listeners {
			if l.Protocol == p && l.ImplicitTLS == implicit {
				out = append(out, l)
			}
		}
	}
	return out
}

func (c Config) logger() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// domainAllowed answers 404 (and false) for a domain that is not ours, and
// 503 when the directory fails.
func (c Config) domainAllowed(w http.ResponseWriter, r *http.Request, domain string) bool {
	if !validDomain(domain) {
		http.Error(w, "bad domain", http.StatusBadRequest)
		return false
	}
	if c.HasDomain == nil {
		return true
	}
	ok, err := c.HasDomain(r.Context(), domain)
	if err != nil {
		c.logger().Warn("autoconfig domain lookup", slog.String("domain", domain), slog.String("error", err.Error()))
		http.Error(w, "temporary failure", http.StatusServiceUnavailable)
		return false
	}
	if !ok {
		http.NotFound(w, r)
	}
	return ok
}

// requestDomain is the mail domain a request is about: the domain of the
// emailaddress query parameter (Thunderbird sends it), else the Host with
// its autoconfig./autodiscover./mta-sts. label removed, else the hostname.
func (c Config) requestDomain(r *http.Request, email string) string {
	if _, d, ok := strings.Cut(email, "@"); ok && !strings.Contains(d, "@") {
		return strings.ToLower(d)
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, prefix := range []string{"autoconfig.", "autodiscover.", "mta-sts."} {
		if d, ok := strings.CutPrefix(host, prefix); ok {
			return d
		}
	}
	if validDomain(host) && net.ParseIP(host) == nil && host != "localhost" {
		return host
	}
	return strings.ToLower(c.Hostname)
}

// validDomain accepts a plain DNS name with at least one dot.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
