package edge

import (
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/store"
)

func dmarcMessage(from string) string {
	return "From: <" + from + ">\r\nTo: " + alice + "\r\nSubject: s\r\n\r\nbody\r\n"
}

// TestDMARCReject: with DMARCReject set, port-25 mail failing DMARC under
// p=reject is refused after DATA with 550 5.7.1, its object deleted and no
// job queued; p=quarantine failures and passing mail are queued.
func TestDMARCReject(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("strict.test", "v=spf1 -all")
	d.TXT("_dmarc.strict.test", "v=DMARC1; p=reject")
	d.TXT("soft.test", "v=spf1 -all")
	d.TXT("_dmarc.soft.test", "v=DMARC1; p=quarantine")
	d.TXT("good.test", "v=spf1 ip4:127.0.0.1 -all")
	d.TXT("_dmarc.good.test", "v=DMARC1; p=reject")
	e := newEnv(t, func(c *Config) {
		c.DMARCReject = &authcheck.Checker{Resolver: d.Resolver(), Hostname: testHostname}
	})

	_, err := send(e.dial(MX, false), "x@strict.test", []string{alice}, dmarcMessage("x@strict.test"))
	wantReply(t, err, 550, smtp.EnhancedCode{5, 7, 1})
	if objs, jobs := e.objects(), e.jobs(store.QueueInbound); len(objs) != 0 || len(jobs) != 0 {
		t.Fatalf("after a DMARC reject: %d objects, %d jobs", len(objs), len(jobs))
	}
	if got := counter(t, e.m.Rejected, "dmarc_reject"); got != 1 {
		t.Errorf("Rejected{dmarc_reject} = %v, want 1", got)
	}
	recs := e.logs.Records(t, "smtp transaction")
	if len(recs) != 1 || recs[0]["result"] != "dmarc_reject" || !strings.Contains(recs[0]["error"].(string), "header.from=strict.test") {
		t.Errorf("transaction log = %v", recs)
	}

	for _, from := range []string{"x@soft.test", "x@good.test"} {
		if _, err := send(e.dial(MX, false), from, []string{alice}, dmarcMessage(from)); err != nil {
			t.Fatalf("%s: %v", from, err)
		}
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(jobs))
	}
}

// TestDMARCRejectNotOnSubmission: authenticated mail is never checked.
func TestDMARCRejectNotOnSubmission(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("example.test", "v=spf1 -all")
	d.TXT("_dmarc.example.test", "v=DMARC1; p=reject")
	e := newEnv(t, func(c *Config) {
		c.DMARCReject = &authcheck.Checker{Resolver: d.Resolver(), Hostname: testHostname}
	})
	c := e.dialAs(t, Submission, true)
	login(t, c, alice)
	if _, err := send(c, alice, []string{bob}, dmarcMessage(alice)); err != nil {
		t.Fatal(err)
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs))
	}
}
