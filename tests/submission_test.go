package e2e

import (
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TestSubmission runs the submission rules against the binary: Python's
// smtplib (tests/python/submission.py) and go-smtp with AUTH LOGIN, then
// checks that only the accepted messages were delivered.
func TestSubmission(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	w := setupWorld(t)
	cmd := exec.Command(python, "python/submission.py",
		"--submission", w.srv.addr("submission"),
		"--user", alice, "--password", alicePass, "--other", bob, "--rcpt", bob)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("submission.py:\n%s", out)
	if err != nil {
		t.Fatalf("submission.py failed: %v", err)
	}

	// go-smtp over implicit TLS (465) with AUTH LOGIN.
	c, err := smtp.DialTLS(w.srv.addr("submissions"), clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewLoginClient(alice, alicePass)); err != nil {
		t.Fatal(err)
	}
	if err := send(c, alice, []string{bob}, message(alice, bob, "go-login", "hi")); err != nil {
		t.Fatal(err)
	}
	// Port 25 relays for nobody, and takes no local sender without SPF
	// (--local-spoof=reject; tests/edge_security_test.go): here DNS does
	// not answer, so the refusal is temporary.
	mx := dialSMTP(t, w.srv.addr("smtp"))
	if code := smtpCode(mx.Mail(alice, nil)); code != 451 {
		t.Errorf("local sender on port 25 without DNS: %d, want 451", code)
	}
	if err := mx.Mail(sender, nil); err != nil {
		t.Fatal(err)
	}
	if code := smtpCode(mx.Rcpt("dave@elsewhere.example", nil)); code != 554 {
		t.Errorf("relay on port 25: %d, want 554", code)
	}
	w.waitSubjects(t, bob, w.bobPass, "INBOX", "py-plain", "py-login-True", "py-login-False", "go-login")
}

// TestAutoconfigHTTP fetches the client configuration from the binary's
// HTTP listener and checks it names the listeners it bound.
func TestAutoconfigHTTP(t *testing.T) {
	w := setupWorld(t)
	base := "http://" + w.srv.addr("http")
	port := func(name string) int {
		_, p, err := net.SplitHostPort(w.srv.addr(name))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(p)
		return n
	}
	get := func(path string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if path == "/.well-known/mta-sts.txt" {
			req.Host = "mta-sts.example.org" // RFC 8461 section 3.3
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	var cc struct {
		Provider struct {
			Servers []struct {
				Type       string `xml:"type,attr"`
				Hostname   string `xml:"hostname"`
				Port       int    `xml:"port"`
				SocketType string `xml:"socketType"`
			} `xml:",any"`
		} `xml:"emailProvider"`
	}
	if err := xml.Unmarshal([]byte(get("/mail/config-v1.1.xml?emailaddress="+alice)), &cc); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range cc.Provider.Servers {
		if s.Type != "" {
			got[s.Type+" "+strconv.Itoa(s.Port)+" "+s.SocketType+" "+s.Hostname] = true
		}
	}
	for _, want := range []string{
		"imap " + strconv.Itoa(port("imaps")) + " SSL", "imap " + strconv.Itoa(port("imap")) + " STARTTLS",
		"pop3 " + strconv.Itoa(port("pop3s")) + " SSL", "pop3 " + strconv.Itoa(port("pop3")) + " STARTTLS",
		"smtp " + strconv.Itoa(port("submissions")) + " SSL", "smtp " + strconv.Itoa(port("submission")) + " STARTTLS",
		"managesieve " + strconv.Itoa(port("managesieve")) + " STARTTLS",
	} {
		if !got[want+" mx.test.example"] {
			t.Errorf("config-v1.1.xml lacks %s: %v", want, got)
		}
	}
	if policy := get("/.well-known/mta-sts.txt"); !strings.Contains(policy, "mx: mx.test.example\r\n") {
		t.Errorf("mta-sts.txt = %q", policy)
	}
	resp, err := http.Get(base + "/.well-known/mta-sts.txt") // Host: the IP address
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("mta-sts.txt for Host %s = %d, want 404", w.srv.addr("http"), resp.StatusCode)
	}
	if body := get("/healthz"); body != "ok\n" {
		t.Errorf("/healthz = %q", body)
	}
}
