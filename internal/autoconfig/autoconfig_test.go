package autoconfig

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var testListeners = []Listener{
	{SMTP, 587, false}, {SMTP, 465, true},
	{IMAP, 143, false}, {IMAP, 993, true},
	{POP3, 110, false}, {POP3, 995, true},
	{ManageSieve, 4190, false},
}

func newServer(t *testing.T, listeners []Listener) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	Register(mux, Config{
		Hostname:  "mail.example.test",
		Listeners: listeners,
		HasDomain: func(_ context.Context, d string) (bool, error) {
			if d == "broken.test" {
				return false, errors.New("directory down")
			}
			return d == "example.test", nil
		},
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func get(t *testing.T, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	code, body, _ := do(t, req)
	return code, body
}

// key identifies a server entry for comparison.
type key struct {
	typ    string
	port   int
	socket string
}

func TestThunderbirdConfig(t *testing.T) {
	srv := newServer(t, testListeners)
	for _, tc := range []struct{ path, host string }{
		{"/mail/config-v1.1.xml?emailaddress=alice%40example.test", ""},
		{"/.well-known/autoconfig/mail/config-v1.1.xml", "example.test"},
		{"/mail/config-v1.1.xml", "autoconfig.example.test"},
	} {
		code, body := get(t, srv.URL+tc.path, tc.host)
		if code != 200 {
			t.Fatalf("%s: %d %s", tc.path, code, body)
		}
		if !strings.HasPrefix(body, "<?xml") {
			t.Errorf("no XML declaration:\n%s", body)
		}
		var cc ClientConfig
		if err := xml.Unmarshal([]byte(body), &cc); err != nil {
			t.Fatalf("%s: %v\n%s", tc.path, err, body)
		}
		p := cc.Provider
		if cc.Version != "1.1" || p.ID != "example.test" || len(p.Domains) != 1 || p.Domains[0] != "example.test" {
			t.Errorf("%s: provider = %+v", tc.path, p)
		}
		got := map[key]bool{}
		for _, s := range append(append([]ServerConfig(nil), p.Incoming...), p.Outgoing...) {
			if s.Hostname != "mail.example.test" || s.Username != "%EMAILADDRESS%" || s.Authentication != "password-cleartext" {
				t.Errorf("server = %+v", s)
			}
			got[key{s.Type, s.Port, s.SocketType}] = true
		}
		for _, want := range []key{
			{"imap", 993, "SSL"}, {"imap", 143, "STARTTLS"}, {"pop3", 995, "SSL"}, {"pop3", 110, "STARTTLS"},
			{"smtp", 465, "SSL"}, {"smtp", 587, "STARTTLS"}, {"managesieve", 4190, "STARTTLS"},
		} {
			if !got[want] {
				t.Errorf("%s: missing %+v in %+v", tc.path, want, got)
			}
		}
		if len(got) != 7 {
			t.Errorf("%d servers, want 7", len(got))
		}
		// Thunderbird takes the first: IMAP over implicit TLS. ManageSieve,
		// a type mail readers skip, is last so that it is never offered as
		// the account's server.
		if first := p.Incoming[0]; first.Type != "imap" || first.SocketType != "SSL" {
			t.Errorf("first incoming = %+v", first)
		}
		if last := p.Incoming[len(p.Incoming)-1]; last.Type != "managesieve" {
			t.Errorf("last incoming = %+v, want the managesieve entry", last)
		}
		for _, s := range p.Outgoing {
			if s.Type != "smtp" {
				t.Errorf("outgoing type %q", s.Type)
			}
		}
		// The element names Thunderbird reads, in its XML.
		for _, elem := range []string{`<clientConfig version="1.1">`, `<emailProvider id="example.test">`,
			`<incomingServer type="imap">`, `<outgoingServer type="smtp">`, `<socketType>SSL</socketType>`} {
			if !strings.Contains(body, elem) {
				t.Errorf("body lacks %s", elem)
			}
		}
	}
}

func TestThunderbirdOnlyConfiguredListeners(t *testing.T) {
	srv := newServer(t, []Listener{{SMTP, 2587, false}, {IMAP, 2993, true}})
	_, body := get(t, srv.URL+"/mail/config-v1.1.xml?emailaddress=a%40example.test", "")
	var cc ClientConfig
	if err := xml.Unmarshal([]byte(body), &cc); err != nil {
		t.Fatal(err)
	}
	p := cc.Provider
	if len(p.Incoming) != 1 || p.Incoming[0].Port != 2993 || p.Incoming[0].SocketType != "SSL" ||
		len(p.Outgoing) != 1 || p.Outgoing[0].Port != 2587 || p.Outgoing[0].SocketType != "STARTTLS" {
		t.Errorf("provider = %+v", p)
	}
}

func TestThunderbirdUnknownDomain(t *testing.T) {
	srv := newServer(t, testListeners)
	for q, want := range map[string]int{
		"other.test":                   404,
		"broken.test":                  503,
		"x%3Cscript%3E.test":           400,
		"example.test%2F..%2Fetc.test": 400,
	} {
		if code, _ := get(t, srv.URL+"/mail/config-v1.1.xml?emailaddress=a%40"+q, ""); code != want {
			t.Errorf("%s: %d, want %d", q, code, want)
		}
	}
}

func TestOutlookAutodiscover(t *testing.T) {
	srv := newServer(t, testListeners)
	reqBody := `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>alice@example.test</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`
	for _, path := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(reqBody))
		req.Header.Set("Content-Type", "text/xml")
		code, body, hdr := do(t, req)
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/xml") {
			t.Fatalf("%s: %d %v\n%s", path, code, hdr, body)
		}
		var resp AutodiscoverResponse
		if err := xml.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.XMLName.Space != nsAutodiscoverResponse || resp.Response.XMLNS != nsOutlookResponse {
			t.Errorf("namespaces = %q %q", resp.XMLName.Space, resp.Response.XMLNS)
		}
		acct := resp.Response.Account
		if acct.AccountType != "email" || acct.Action != "settings" {
			t.Errorf("account = %+v", acct)
		}
		got := map[key]bool{}
		for _, p := range acct.Protocols {
			if p.Server != "mail.example.test" || p.LoginName != "alice@example.test" || p.AuthRequired != "on" {
				t.Errorf("protocol = %+v", p)
			}
			if (p.SSL == "on") != (p.Encryption == "SSL") {
				t.Errorf("SSL %q with Encryption %q", p.SSL, p.Encryption)
			}
			got[key{p.Type, p.Port, p.SSL}] = true
		}
		for _, want := range []key{{"IMAP", 993, "on"}, {"IMAP", 143, "off"}, {"POP3", 995, "on"}, {"POP3", 110, "off"},
			{"SMTP", 465, "on"}, {"SMTP", 587, "off"}} {
			if !got[want] {
				t.Errorf("missing %+v in %+v", want, got)
			}
		}
	}
	// Not ours, malformed, wrong method.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/autodiscover/autodiscover.xml",
		strings.NewReader(strings.ReplaceAll(reqBody, "example.test", "other.test")))
	if code, _, _ := do(t, req); code != 404 {
		t.Errorf("other domain: %d, want 404", code)
	}
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/autodiscover/autodiscover.xml", strings.NewReader("<nope"))
	if code, _, _ := do(t, req); code != 400 {
		t.Errorf("bad XML: %d, want 400", code)
	}
	req, _ = http.NewRequest(http.MethodDelete, srv.URL+"/autodiscover/autodiscover.xml", nil)
	if code, _, _ := do(t, req); code != 405 {
		t.Errorf("DELETE: %d, want 405", code)
	}
}

func TestMTASTSPolicy(t *testing.T) {
	srv := newServer(t, testListeners)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/.well-known/mta-sts.txt", nil)
	req.Host = "mta-sts.example.test"
	code, body, hdr := do(t, req)
	if code != 200 || hdr.Get("Content-Type") != "text/plain" {
		t.Fatalf("%d %v", code, hdr)
	}
	want := "version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 86400\r\n"
	if body != want {
		t.Errorf("policy = %q, want %q", body, want)
	}
	id := MTASTSPolicyID("mail.example.test")
	if !regexp.MustCompile(`^[a-zA-Z0-9]{1,32}$`).MatchString(id) {
		t.Errorf("id %q is not 1*32 alphanumerics (RFC 8461 3.1)", id)
	}
	if id == MTASTSPolicyID("mx2.example.test") || id != MTASTSPolicyID("mail.example.test") {
		t.Error("the id does not follow the policy")
	}
}

// TestMTASTSOnlyForLocalDomains checks that the policy is served only for
// Host mta-sts.<local domain> (RFC 8461 section 3.3), whatever the port or
// case, and nowhere else.
func TestMTASTSOnlyForLocalDomains(t *testing.T) {
	srv := newServer(t, nil)
	for host, want := range map[string]int{
		"mta-sts.example.test":       200,
		"MTA-STS.Example.Test.:8080": 200,
		"127.0.0.1":                  404,
		"[::1]:8080":                 404,
		"example.test":               404,
		"mail.example.test":          404,
		"autoconfig.example.test":    404,
		"mta-sts.other.test":         404,
		"mta-sts.":                   404,
		"mta-sts.a..example.test":    404,
		"mta-sts.broken.test":        503,
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/.well-known/mta-sts.txt", nil)
		req.Host = host
		code, body, _ := do(t, req)
		if code != want {
			t.Errorf("Host %q: %d, want %d", host, code, want)
		}
		if code != 200 && strings.Contains(body, "STSv1") {
			t.Errorf("Host %q: the refusal carries the policy: %q", host, body)
		}
	}
}

func TestListenerFromAddr(t *testing.T) {
	for addr, want := range map[string]int{":587": 587, "0.0.0.0:465": 465, "[::]:993": 993, "": 0, "x": 0, ":0": 0} {
		l, ok := ListenerFromAddr(SMTP, addr, false)
		if ok != (want != 0) || l.Port != want {
			t.Errorf("%q: %+v %v, want port %d", addr, l, ok, want)
		}
	}
}
