package autoconfig

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
)

// Namespaces of the Outlook POX autodiscover protocol ([MS-OXDSCLI]).
const (
	nsAutodiscoverResponse = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsOutlookResponse      = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// maxAutodiscoverRequest bounds the request body read.
const maxAutodiscoverRequest = 64 << 10

// AutodiscoverRequest is the POX request Outlook POSTs.
type AutodiscoverRequest struct {
	XMLName xml.Name `xml:"Autodiscover"`
	Request struct {
		EMailAddress             string `xml:"EMailAddress"`
		AcceptableResponseSchema string `xml:"AcceptableResponseSchema"`
	} `xml:"Request"`
}

// AutodiscoverResponse is the POX answer.
type AutodiscoverResponse struct {
	XMLName  xml.Name        `xml:"Autodiscover"`
	XMLNS    string          `xml:"xmlns,attr"`
	Response OutlookResponse `xml:"Response"`
}

// OutlookResponse holds the account settings.
type OutlookResponse struct {
	XMLNS   string         `xml:"xmlns,attr"`
	Account OutlookAccount `xml:"Account"`
}

// OutlookAccount lists one Protocol per listener.
type OutlookAccount struct {
	AccountType string            `xml:"AccountType"`
	Action      string            `xml:"Action"`
	Protocols   []OutlookProtocol `xml:"Protocol"`
}

// OutlookProtocol is one server: Type IMAP, POP3 or SMTP; SSL "on" for
// implicit TLS; Encryption says which ("SSL" or "TLS" for STARTTLS).
type OutlookProtocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           int    `xml:"Port"`
	DomainRequired string `xml:"DomainRequired"`
	LoginName      string `xml:"LoginName"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	Encryption     string `xml:"Encryption"`
	AuthRequired   string `xml:"AuthRequired"`
}

// Outlook serves /autodiscover/autodiscover.xml. Outlook POSTs a request
// naming the address; a GET with ?emailaddress= (some other clients) is
// answered too. The login name is the address.
func Outlook(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var email string
		switch r.Method {
		case http.MethodPost:
			var req AutodiscoverRequest
			if err := xml.NewDecoder(io.LimitReader(r.Body, maxAutodiscoverRequest)).Decode(&req); err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			email = strings.TrimSpace(req.Request.EMailAddress)
		case http.MethodGet:
			email = r.URL.Query().Get("emailaddress")
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		domain := cfg.requestDomain(r, email)
		if !cfg.domainAllowed(w, r, domain) {
			return
		}
		writeXML(w, cfg.autodiscover(email))
	})
}

func (c Config) autodiscover(email string) AutodiscoverResponse {
	acct := OutlookAccount{AccountType: "email", Action: "settings"}
	for _, p := range []Protocol{IMAP, POP3, SMTP} {
		for _, l := range c.ordered(p) {
			ssl, enc := "off", "TLS"
			if l.ImplicitTLS {
				ssl, enc = "on", "SSL"
			}
			acct.Protocols = append(acct.Protocols, OutlookProtocol{
				Type: strings.ToUpper(string(p)), Server: c.Hostname, Port: l.Port,
				DomainRequired: "off", LoginName: email, SPA: "off", SSL: ssl, Encryption: enc, AuthRequired: "on",
			})
		}
	}
	return AutodiscoverResponse{XMLNS: nsAutodiscoverResponse,
		Response: OutlookResponse{XMLNS: nsOutlookResponse, Account: acct}}
}
