package autoconfig

import (
	"encoding/xml"
	"net/http"
	"strconv"
)

// ClientConfig is Thunderbird's autoconfig document, version 1.1
// (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).
// Exported so tests, here and elsewhere, parse the same shape.
type ClientConfig struct {
	XMLName  xml.Name      `xml:"clientConfig"`
	Version  string        `xml:"version,attr"`
	Provider EmailProvider `xml:"emailProvider"`
}

// EmailProvider describes one mail domain.
type EmailProvider struct {
	ID               string         `xml:"id,attr"`
	Domains          []string       `xml:"domain"`
	DisplayName      string         `xml:"displayName"`
	DisplayShortName string         `xml:"displayShortName"`
	Incoming         []ServerConfig `xml:"incomingServer"`
	Outgoing         []ServerConfig `xml:"outgoingServer"`
}

// ServerConfig is an incomingServer (type imap, pop3 or managesieve) or
// an outgoingServer (type smtp).
type ServerConfig struct {
	Type           string `xml:"type,attr"`
	Hostname       string `xml:"hostname"`
	Port           int    `xml:"port"`
	SocketType     string `xml:"socketType"`     // SSL (implicit TLS) or STARTTLS
	Authentication string `xml:"authentication"` // password-cleartext: PLAIN/LOGIN under TLS
	Username       string `xml:"username"`
}

// Thunderbird serves config-v1.1.xml: Thunderbird fetches
// https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=... and
// https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml.
func Thunderbird(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		domain := cfg.requestDomain(r, r.URL.Query().Get("emailaddress"))
		if !cfg.domainAllowed(w, r, domain) {
			return
		}
		writeXML(w, cfg.clientConfig(domain))
	})
}

func (c Config) clientConfig(domain string) ClientConfig {
	p := EmailProvider{ID: domain, Domains: []string{domain}, DisplayName: domain, DisplayShortName: domain}
	server := func(l Listener) ServerConfig {
		socket := "STARTTLS"
		if l.ImplicitTLS {
			socket = "SSL"
		}
		return ServerConfig{
			Type: string(l.Protocol), Hostname: c.Hostname, Port: l.Port, SocketType: socket,
			Authentication: "password-cleartext", Username: "%EMAILADDRESS%",
		}
	}
	// Thunderbird offers the first incoming server: IMAP before POP3.
	// ManageSieve comes last: the format has no element for it, and
	// readers that know only imap and pop3 skip a server of another type
	// (Thunderbird reads each incomingServer on its own and drops the ones
	// whose type it does not support), while filter editors and scripts
	// find the host, port and STARTTLS of port 4190 in the same document.
	for _, p2 := range []Protocol{IMAP, POP3, ManageSieve} {
		for _, l := range c.ordered(p2) {
			p.Incoming = append(p.Incoming, server(l))
		}
	}
	for _, l := range c.ordered(SMTP) {
		p.Outgoing = append(p.Outgoing, server(l))
	}
	return ClientConfig{Version: "1.1", Provider: p}
}

// writeXML sends v as an XML document.
func writeXML(w http.ResponseWriter, v any) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
