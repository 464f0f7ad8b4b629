package e2e

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
)

// TestForwarding runs forwarding through the binary, with the outside
// world on loopback: an SMTP sink standing for remote.example and
// sender.test (--transport), and a DNS server whose SPF records authorise
// 127.0.0.1 for sender.test and example.org.
//
//   - mail from a@sender.test to an alias of example.org pointing at
//     someone@remote.example reaches the sink with the envelope sender in
//     SRS0 form at example.org, whose SPF passes for our host;
//   - a bounce to that SRS address, arriving on port 25, goes back to
//     a@sender.test with the null sender; a forged SRS address gets 550;
//   - a forwarded copy refused by the destination comes back to
//     a@sender.test as a DSN;
//   - a loop through two aliases (ours to the remote, the remote's back
//     to ours) ends: the copy that comes back is not forwarded again, and
//     the original sender gets a DSN.
func TestForwarding(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("sender.test", "v=spf1 ip4:127.0.0.1 -all")
	d.TXT("example.org", "v=spf1 ip4:127.0.0.1 -all")
	rm := startOutboundRemote(t)
	route := "127.0.0.1:" + rm.port
	w := setupWorld(t, "--dns-resolver", d.Addr, "--transport", "remote.example="+route+",sender.test="+route)
	mustAdmin(t, w.dataDir, "", "alias", "add", "fwd@example.org", "someone@remote.example")
	mustAdmin(t, w.dataDir, "", "alias", "add", "loop@example.org", "back@remote.example")
	mustAdmin(t, w.dataDir, "", "alias", "add", "dead@example.org", "nobody@remote.example")
	if out := mustAdmin(t, w.dataDir, "", "alias", "list"); !strings.Contains(out, "fwd@example.org someone@remote.example (outside)\n") {
		t.Errorf("alias list:\n%s", out)
	}
	smtpAddr := w.srv.addr("smtp")

	mustSend(t, smtpAddr, "a@sender.test", []string{"fwd@example.org"}, message("a@sender.test", "fwd@example.org", "forward me", "hello"))
	fwd := waitRemote(t, rm, "the forwarded copy", func(m outboundMsg) bool { return slices.Equal(m.to, []string{"someone@remote.example"}) })
	if !strings.HasPrefix(fwd.from, "SRS0=") || !strings.HasSuffix(fwd.from, "=sender.test=a@example.org") {
		t.Fatalf("forwarded with MAIL FROM %q, want SRS0=...=sender.test=a@example.org", fwd.from)
	}
	if !bytes.Contains(fwd.data, []byte("Delivered-To: fwd@example.org\r\n")) || !bytes.Contains(fwd.data, []byte("Subject: forward me\r\n")) {
		t.Errorf("forwarded copy:\n%s", fwd.data)
	}
	checker := &authcheck.Checker{Resolver: d.Resolver(), Hostname: "mx.remote.example"}
	res, err := checker.Check(t.Context(), "127.0.0.1", "mx.test.example", fwd.from, bytes.NewReader(fwd.data))
	if err != nil || res.SPF != authres.ResultPass || res.SPFDomain != "example.org" {
		t.Errorf("SPF of the forwarded copy at the destination: %s for %q (%v), want pass for example.org", res.SPF, res.SPFDomain, err)
	}

	// The destination bounces the copy to its MAIL FROM.
	forged := strings.Replace(fwd.from, "=a@", "=mallory@", 1)
	err = send(dialSMTP(t, smtpAddr), "", []string{forged}, message("MAILER-DAEMON@remote.example", forged, "forged bounce", "no"))
	if smtpCode(err) != 550 {
		t.Errorf("RCPT to a tampered SRS address: %v, want 550", err)
	}
	mustSend(t, smtpAddr, "", []string{fwd.from}, message("MAILER-DAEMON@remote.example", fwd.from, "bounce of forward me", "undeliverable"))
	back := waitRemote(t, rm, "the returned bounce", func(m outboundMsg) bool { return slices.Equal(m.to, []string{"a@sender.test"}) })
	if back.from != "" || !bytes.Contains(back.data, []byte("Subject: bounce of forward me\r\n")) {
		t.Errorf("returned bounce from %q:\n%s", back.from, back.data)
	}

	// The destination refuses a forwarded copy at RCPT: our outbound
	// notice goes to the SRS sender, which sends it back to a@sender.test.
	mustSend(t, smtpAddr, "a@sender.test", []string{"dead@example.org"}, message("a@sender.test", "dead@example.org", "to a dead end", "x"))
	refused := waitRemote(t, rm, "the DSN of the refused forward", func(m outboundMsg) bool {
		return m.from == "" && bytes.Contains(m.data, []byte("Final-Recipient: rfc822; nobody@remote.example"))
	})
	if !slices.Equal(refused.to, []string{"a@sender.test"}) || !bytes.Contains(refused.data, []byte("Status: 5.1.1")) {
		t.Errorf("DSN of the refused forward to %v:\n%s", refused.to, refused.data)
	}

	// loop@example.org -> back@remote.example, whose owner forwards it to
	// loop@example.org again.
	mustSend(t, smtpAddr, "a@sender.test", []string{"loop@example.org"}, message("a@sender.test", "loop@example.org", "looping", "round"))
	first := waitRemote(t, rm, "the first trip of the loop", func(m outboundMsg) bool { return slices.Equal(m.to, []string{"back@remote.example"}) })
	mustSend(t, smtpAddr, first.from, []string{"loop@example.org"}, string(first.data))
	dsn := waitRemote(t, rm, "the DSN of the loop", func(m outboundMsg) bool {
		return m.from == "" && bytes.Contains(m.data, []byte("Status: 5.4.6"))
	})
	if !slices.Equal(dsn.to, []string{"a@sender.test"}) || !bytes.Contains(dsn.data, []byte("mail forwarding loop for loop@example.org")) {
		t.Errorf("loop DSN to %v:\n%s", dsn.to, dsn.data)
	}
	if n := countRemote(rm, func(m outboundMsg) bool { return slices.Equal(m.to, []string{"back@remote.example"}) }); n != 1 {
		t.Errorf("the looping message went out %d times, want 1", n)
	}
}

// waitRemote waits for the sink to hold a message matching and returns it.
func waitRemote(t *testing.T, rm *outboundRemote, what string, match func(outboundMsg) bool) outboundMsg {
	t.Helper()
	var got outboundMsg
	eventually(t, deliveryTimeout, what, func() (bool, string) {
		msgs := rm.messages()
		for _, m := range msgs {
			if match(m) {
				got = m
				return true, ""
			}
		}
		return false, fmt.Sprint(len(msgs), " messages at the sink")
	})
	return got
}

func countRemote(rm *outboundRemote, match func(outboundMsg) bool) int {
	n := 0
	for _, m := range rm.messages() {
		if match(m) {
			n++
		}
	}
	return n
}
