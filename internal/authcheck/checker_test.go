package authcheck

import (
	"bytes"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"

	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/domainkeys"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

const clientIP = "192.0.2.10"

func message(from string) string {
	return "Received: from mx.sender.example by mx.test; Tue, 4 Jun 2024 10:00:00 +0000\r\n" +
		"From: Sender <" + from + ">\r\n" +
		"To: alice@example.com\r\n" +
		"Subject: hi\r\n" +
		"Date: Tue, 4 Jun 2024 11:59:58 +0200\r\n" +
		"Message-ID: <m1@sender.example>\r\n" +
		"\r\n" +
		"hello\r\n"
}

// world is a DNS server with the records of the scenarios:
// sender.example (SPF pass for clientIP, DMARC reject, DKIM key),
// soft.example (~all, quarantine), fail.example (-all, no DMARC),
// sub.org.example under org.example (sp=quarantine), strict.example
// (aspf=s).
type world struct {
	dns     *authchecktest.DNS
	checker *Checker
	signed  func(raw string) string // DKIM-signs raw as sender.example
}

func newWorld(t *testing.T) *world {
	t.Helper()
	d := authchecktest.Start(t)
	d.TXT("sender.example", "v=spf1 ip4:"+clientIP+" -all")
	d.TXT("bounce.sender.example", "v=spf1 ip4:"+clientIP+" -all")
	d.TXT("_dmarc.sender.example", "v=DMARC1; p=reject")
	d.TXT("soft.example", "v=spf1 ~all")
	d.TXT("_dmarc.soft.example", "v=DMARC1; p=quarantine")
	d.TXT("fail.example", "v=spf1 -all")
	d.TXT("sub.org.example", "v=spf1 -all")
	d.TXT("_dmarc.org.example", "v=DMARC1; p=none; sp=quarantine")
	d.TXT("strict.example", "v=spf1 -all")
	d.TXT("_dmarc.strict.example", "v=DMARC1; p=reject; aspf=s; adkim=s")
	d.TXT("mail.strict.example", "v=spf1 ip4:"+clientIP+" -all")

	blobs := testenv.LocalBlobs(t)
	for _, alg := range []string{domainkeys.Ed25519, domainkeys.RSA2048} {
		k, err := domainkeys.Generate(t.Context(), blobs, "sender.example", "s"+alg, alg)
		if err != nil {
			t.Fatal(err)
		}
		d.TXT(k.Record(), k.TXT)
	}
	sign := func(raw string) string {
		var b bytes.Buffer
		if err := domainkeys.Sign(t.Context(), blobs, "sender.example", &b, strings.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	return &world{dns: d, checker: &Checker{Resolver: d.Resolver(), Hostname: "mx.test"}, signed: sign}
}

func (w *world) check(t *testing.T, ip, helo, mailFrom, raw string) Result {
	t.Helper()
	res, err := w.checker.Check(t.Context(), ip, helo, mailFrom, strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCheckScenarios(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name, ip, mailFrom, raw string
		spf, dmarc              authres.ResultValue
		dkim                    []authres.ResultValue
		disposition             Disposition
	}{
		{name: "spf pass aligned", ip: clientIP, mailFrom: "bob@sender.example", raw: message("bob@sender.example"),
			spf: "pass", dmarc: "pass", disposition: DispositionNone},
		{name: "spf pass relaxed alignment", ip: clientIP, mailFrom: "b@bounce.sender.example", raw: message("bob@sender.example"),
			spf: "pass", dmarc: "pass", disposition: DispositionNone},
		{name: "spf fail dmarc reject", ip: "198.51.100.7", mailFrom: "bob@sender.example", raw: message("bob@sender.example"),
			spf: "fail", dmarc: "fail", disposition: DispositionReject},
		{name: "spf softfail dmarc quarantine", ip: clientIP, mailFrom: "x@soft.example", raw: message("x@soft.example"),
			spf: "softfail", dmarc: "fail", disposition: DispositionQuarantine},
		{name: "spf fail without dmarc", ip: clientIP, mailFrom: "x@fail.example", raw: message("x@fail.example"),
			spf: "fail", dmarc: "none", disposition: DispositionNone},
		{name: "subdomain policy", ip: clientIP, mailFrom: "x@sub.org.example", raw: message("x@sub.org.example"),
			spf: "fail", dmarc: "fail", disposition: DispositionQuarantine},
		{name: "strict alignment", ip: clientIP, mailFrom: "x@mail.strict.example", raw: message("x@strict.example"),
			spf: "pass", dmarc: "fail", disposition: DispositionReject},
		{name: "no spf record", ip: clientIP, mailFrom: "x@nowhere.example", raw: message("x@nowhere.example"),
			spf: "none", dmarc: "none", disposition: DispositionNone},
		{name: "dkim pass rescues spf fail", ip: "198.51.100.7", mailFrom: "bob@sender.example", raw: w.signed(message("bob@sender.example")),
			spf: "fail", dkim: []authres.ResultValue{"pass", "pass"}, dmarc: "pass", disposition: DispositionNone},
		{name: "dkim fail", ip: "198.51.100.7", mailFrom: "bob@sender.example",
			raw: strings.Replace(w.signed(message("bob@sender.example")), "hello", "HELLO", 1),
			spf: "fail", dkim: []authres.ResultValue{"fail", "fail"}, dmarc: "fail", disposition: DispositionReject},
		{name: "dkim pass unaligned", ip: clientIP, mailFrom: "x@fail.example", raw: w.signed(message("x@soft.example")),
			spf: "fail", dkim: []authres.ResultValue{"pass", "pass"}, dmarc: "fail", disposition: DispositionQuarantine},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := w.check(t, c.ip, "mx.sender.example", c.mailFrom, c.raw)
			if res.SPF != c.spf || res.DMARC != c.dmarc || res.Disposition != c.disposition {
				t.Errorf("spf=%s dmarc=%s disposition=%s, want %s %s %s", res.SPF, res.DMARC, res.Disposition, c.spf, c.dmarc, c.disposition)
			}
			var dk []authres.ResultValue
			for _, d := range res.DKIM {
				dk = append(dk, d.Value)
			}
			if len(dk) != len(c.dkim) || (len(dk) > 0 && (dk[0] != c.dkim[0] || dk[1] != c.dkim[1])) {
				t.Errorf("dkim = %v, want %v", dk, c.dkim)
			}
			// The header parses back to the same results.
			line := strings.TrimSuffix(strings.TrimPrefix(res.Header, "Authentication-Results: "), "\r\n")
			id, results, err := authres.Parse(strings.ReplaceAll(line, "\r\n\t", " "))
			if err != nil || id != "mx.test" {
				t.Fatalf("parse %q: %q %v", res.Header, id, err)
			}
			var spfSeen, dmarcSeen authres.ResultValue
			for _, r := range results {
				switch r := r.(type) {
				case *authres.SPFResult:
					spfSeen = r.Value
				case *authres.DMARCResult:
					dmarcSeen = r.Value
				}
			}
			if spfSeen != c.spf || dmarcSeen != c.dmarc {
				t.Errorf("header %q: spf=%s dmarc=%s", res.Header, spfSeen, dmarcSeen)
			}
		})
	}
}

func TestCheckHeaderFormat(t *testing.T) {
	w := newWorld(t)
	res := w.check(t, clientIP, "mx.sender.example", "bob@sender.example", message("bob@sender.example"))
	want := "Authentication-Results: mx.test;\r\n\tspf=pass smtp.helo=mx.sender.example smtp.mailfrom=bob@sender.example;\r\n" +
		"\tdkim=none;\r\n\tdmarc=pass header.from=sender.example\r\n"
	if res.Header != want {
		t.Fatalf("header:\n%q\nwant\n%q", res.Header, want)
	}
}

func TestCheckDNSDown(t *testing.T) {
	// A resolver pointed at a port nobody listens on: every lookup fails.
	w := newWorld(t)
	c := &Checker{Resolver: authchecktest.Closed(t).Resolver(), Hostname: "mx.test"}
	res, err := c.Check(t.Context(), clientIP, "mx.sender.example", "bob@sender.example", strings.NewReader(w.signed(message("bob@sender.example"))))
	if err != nil {
		t.Fatal(err)
	}
	if res.SPF != authres.ResultTempError || res.DMARC != authres.ResultTempError || res.Disposition != DispositionNone {
		t.Fatalf("spf=%s dmarc=%s disposition=%s", res.SPF, res.DMARC, res.Disposition)
	}
	if len(res.DKIM) != 2 || res.DKIM[0].Value != authres.ResultTempError {
		t.Fatalf("dkim %+v", res.DKIM)
	}
}

func TestCheckNullSenderUsesHelo(t *testing.T) {
	w := newWorld(t)
	res := w.check(t, clientIP, "sender.example", "", message("postmaster@sender.example"))
	if res.SPF != authres.ResultPass || res.SPFDomain != "sender.example" || res.DMARC != authres.ResultPass {
		t.Fatalf("%+v", res)
	}
}

func TestOrganizationalDomain(t *testing.T) {
	for in, want := range map[string]string{
		"mail.example.co.uk": "example.co.uk", "a.b.example.com": "example.com", "example.com.": "example.com", "com": "com",
	} {
		if got := OrganizationalDomain(in); got != want {
			t.Errorf("OrganizationalDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFromHeader(t *testing.T) {
	for raw, want := range map[string]string{
		"From: a@x.example\r\n\r\n":                                             "x.example",
		"From: \"Broken <name\" <a@Y.example>\r\n\r\n":                          "y.example",
		"Subject: s\r\nFrom:\r\n  A <a@z.example>\r\n\r\nFrom: b@w.example\r\n": "z.example",
		"From: a@x.example\r\nFrom: b@y.example\r\n\r\n":                        "",
		"From: a@x.example, b@y.example\r\n\r\n":                                "",
		"From : b@y.example\r\nFrom: a@x.example\r\n\r\n":                       "",
		"Fr om: b@y.example\r\nFrom: a@x.example\r\n\r\n":                       "",
	} {
		h := &headerCapture{}
		_, _ = h.Write([]byte(raw))
		got := h.from()
		if (len(got) == 1 && got[0] != want) || (len(got) != 1 && want != "") {
			t.Errorf("from(%q) = %q, want %q", raw, got, want)
		}
	}
}
