package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/domainkeys"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// authDNS serves the records of the inbound-check scenarios: pass.test
// authorises 127.0.0.1, forged.test and quar.test authorise nobody;
// signed.test has a DKIM key and no SPF. sign DKIM-signs as signed.test.
func authDNS(t *testing.T) (addr string, sign func(string) string) {
	d := authchecktest.Start(t)
	d.TXT("pass.test", "v=spf1 ip4:127.0.0.1 -all")
	d.TXT("_dmarc.pass.test", "v=DMARC1; p=reject")
	d.TXT("forged.test", "v=spf1 -all")
	d.TXT("_dmarc.forged.test", "v=DMARC1; p=reject")
	d.TXT("quar.test", "v=spf1 -all")
	d.TXT("_dmarc.quar.test", "v=DMARC1; p=quarantine")
	d.TXT("_dmarc.signed.test", "v=DMARC1; p=reject")
	blobs := testenv.LocalBlobs(t)
	k, err := domainkeys.Generate(context.Background(), blobs, "signed.test", "s1", domainkeys.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	d.TXT(k.Record(), k.TXT)
	return d.Addr, func(raw string) string {
		var b bytes.Buffer
		if err := domainkeys.Sign(context.Background(), blobs, "signed.test", &b, strings.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
}

// TestInboundAuthentication runs the built binary against a loopback DNS
// server: each delivered copy carries Authentication-Results, DMARC
// failures under p=reject and p=quarantine land in Junk by default, and
// with --dmarc-reject=reject a p=reject failure is refused with 550.
func TestInboundAuthentication(t *testing.T) {
	dnsAddr, sign := authDNS(t)

	t.Run("Junk", func(t *testing.T) {
		w := setupWorld(t, "--dns-resolver", dnsAddr)
		smtpAddr := w.srv.addr("smtp")
		mustSend(t, smtpAddr, "a@pass.test", []string{alice}, message("a@pass.test", alice, "spf pass", "ok"))
		mustSend(t, smtpAddr, "a@forged.test", []string{alice}, message("a@forged.test", alice, "forged", "no"))
		mustSend(t, smtpAddr, "a@quar.test", []string{alice}, message("a@quar.test", alice, "quarantined", "no"))
		mustSend(t, smtpAddr, "bounce@elsewhere.test", []string{alice}, sign(message("a@signed.test", alice, "dkim pass", "ok")))
		inbox := w.waitSubjects(t, alice, alicePass, "INBOX", "spf pass", "dkim pass")
		w.waitSubjects(t, alice, alicePass, "Junk", "forged", "quarantined")

		c := dialIMAP(t, w.srv.addr("imap"), alice, alicePass, nil)
		listMailbox(t, c, "INBOX")
		for _, m := range inbox {
			body := fetchBody(t, c, m.UID)
			want := map[string][]string{
				"spf pass":  {"Authentication-Results: mx.test.example;\r\n\tspf=pass smtp.helo=", "dmarc=pass header.from=pass.test"},
				"dkim pass": {"spf=none", "dkim=pass header.d=signed.test", "dmarc=pass header.from=signed.test"},
			}[m.Subject]
			for _, s := range want {
				if !strings.Contains(body, s) {
					t.Errorf("%q lacks %q:\n%s", m.Subject, s, body)
				}
			}
			if !strings.HasPrefix(body, "Return-Path: ") || strings.Index(body, "Authentication-Results:") > strings.Index(body, "Received:") {
				t.Errorf("%q: Authentication-Results not in the prefix before Received:\n%s", m.Subject, body)
			}
		}
	})

	t.Run("Reject", func(t *testing.T) {
		w := setupWorld(t, "--dns-resolver", dnsAddr, "--dmarc-reject", "reject")
		smtpAddr := w.srv.addr("smtp")
		err := send(dialSMTP(t, smtpAddr), "a@forged.test", []string{alice}, message("a@forged.test", alice, "forged", "no"))
		if smtpCode(err) != 550 {
			t.Fatalf("DMARC p=reject failure: %v, want 550", err)
		}
		mustSend(t, smtpAddr, "a@quar.test", []string{alice}, message("a@quar.test", alice, "quarantined", "no"))
		mustSend(t, smtpAddr, "a@pass.test", []string{alice}, message("a@pass.test", alice, "spf pass", "ok"))
		w.waitSubjects(t, alice, alicePass, "INBOX", "spf pass")
		w.waitSubjects(t, alice, alicePass, "Junk", "quarantined")
	})
}
