package edge

import (
	"context"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/store"
)

// TestLocalSenderOnPort25: an unauthenticated MAIL FROM in a local domain
// is refused with 550 5.7.1 unless SPF authorises the client for it; the
// null sender, remote senders and submission pass.
func TestLocalSenderOnPort25(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("example.test", "v=spf1 -all") // alice's domain: nobody sends it from outside
	d.TXT("trusted.test", "v=spf1 ip4:127.0.0.1 -all")
	e := newEnv(t, func(c *Config) {
		c.LocalSenders = &authcheck.Checker{Resolver: d.Resolver(), Hostname: testHostname}
	})
	if err := e.db.AddDomain(context.Background(), "trusted.test"); err != nil {
		t.Fatal(err)
	}
	if err := e.db.AddDomain(context.Background(), "nospf.test"); err != nil {
		t.Fatal(err)
	}
	c := e.dial(MX, false)
	for _, from := range []string{alice, "Alice@EXAMPLE.test", "nobody@example.test", "x@nospf.test"} {
		wantReply(t, c.Mail(from, nil), 550, smtp.EnhancedCode{5, 7, 1})
	}
	if got := counter(t, e.m.Rejected, "local_sender"); got != 4 {
		t.Errorf("Rejected{local_sender} = %v, want 4", got)
	}
	if recs := e.logs.Records(t, "smtp local sender refused"); len(recs) != 4 || recs[0]["level"] != "WARN" || recs[0]["spf"] != "fail" {
		t.Errorf("log records = %v", recs)
	}
	for _, from := range []string{"", "carol@remote.test", "x@trusted.test"} {
		if _, err := send(c, from, []string{alice}, "Subject: s\r\n\r\nbody\r\n"); err != nil {
			t.Fatalf("MAIL FROM:<%s>: %v", from, err)
		}
	}
	sub := e.dial(Submission, true)
	login(t, sub, alice)
	if _, err := send(sub, alice, []string{bob}, aliceMessage); err != nil {
		t.Fatal(err)
	}
	if n := len(e.jobs(store.QueueInbound)); n != 4 {
		t.Errorf("%d jobs, want 4", n)
	}
}

// TestLocalSenderDNSFailure: without an SPF answer the refusal is
// temporary (451 4.4.3), so that an authorised system retries.
func TestLocalSenderDNSFailure(t *testing.T) {
	d := authchecktest.Closed(t)
	e := newEnv(t, func(c *Config) {
		c.LocalSenders = &authcheck.Checker{Resolver: d.Resolver(), Hostname: testHostname}
	})
	c := e.dial(MX, false)
	wantReply(t, c.Mail(alice, nil), 451, smtp.EnhancedCode{4, 4, 3})
	if err := c.Mail("carol@remote.test", nil); err != nil {
		t.Fatal(err)
	}
}
