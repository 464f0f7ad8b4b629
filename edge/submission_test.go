package edge

import (
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/store"
)

func login(t *testing.T, c *smtp.Client, user string) {
	t.Helper()
	if err := c.Auth(sasl.NewPlainClient("", user, testPassword)); err != nil {
		t.Fatal(err)
	}
}

func TestSubmissionAuthBeforeTLS(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, false)
	if err := c.Auth(sasl.NewPlainClient("", alice, testPassword)); err == nil {
		t.Fatal("AUTH accepted over plaintext")
	}
	wantReply(t, c.Mail(alice, nil), 530, smtp.EnhancedCode{5, 7, 0})
	if got := counter(t, e.m.Rejected, "auth_required"); got != 1 {
		t.Errorf("Rejected{auth_required} = %v, want 1", got)
	}
}

func TestSubmissionMailRequiresAuth(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	wantReply(t, c.Mail(alice, nil), 530, smtp.EnhancedCode{5, 7, 0})
}

func TestSubmissionWrongPassword(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	err := c.Auth(sasl.NewPlainClient("", alice, "wrong"))
	wantReply(t, err, 535, smtp.EnhancedCode{5, 7, 8})
	err = c.Auth(sasl.NewPlainClient("", "nobody@example.test", testPassword))
	wantReply(t, err, 535, smtp.EnhancedCode{5, 7, 8})
	if got := counter(t, e.m.AuthFailures, "submission"); got != 2 {
		t.Errorf("AuthFailures{submission} = %v, want 2", got)
	}
	if e.logs.contains("wrong") {
		t.Error("a password reached the log")
	}
	// A failed AUTH may be followed by a good one.
	login(t, c, alice)
}

func TestSubmissionProxyAuthRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	wantReply(t, c.Auth(sasl.NewPlainClient(bob, alice, testPassword)), 535, smtp.EnhancedCode{5, 7, 8})
}

func TestSubmissionSenderNotOwned(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	for _, from := range []string{bob, "bob+x@example.test", "nobody@example.test", "alice@elsewhere.test", ""} {
		wantReply(t, c.Mail(from, nil), 553, smtp.EnhancedCode{5, 7, 1})
	}
}

func TestSubmissionOwnAddresses(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	// Her address in any case, a plus-address and an alias resolving to her.
	for _, from := range []string{alice, "Alice@Example.Test", "alice+lists@example.test", "team@example.test"} {
		if _, err := send(c, from, []string{bob}, testMessage); err != nil {
			t.Fatalf("sending as %s: %v", from, err)
		}
	}
	jobs := e.jobs(store.QueueInbound)
	if len(jobs) != 4 {
		t.Fatalf("got %d jobs, want 4", len(jobs))
	}
	for _, j := range jobs {
		if j.Auth != alice || j.Queue != store.QueueInbound || len(j.To) != 1 || j.To[0] != bob {
			t.Errorf("job = %+v", j)
		}
	}
	obj, _ := e.object(jobs[0].ID)
	if !strings.Contains(string(obj), " with ESMTPSA (TLS") {
		t.Errorf("Received line does not say ESMTPSA:\n%s", obj)
	}
	if got := counter(t, e.m.Accepted, "submission"); got != 4 {
		t.Errorf("Accepted{submission} = %v, want 4", got)
	}
}

func TestSubmissionRemoteRecipient(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	if err := c.Mail(alice, nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt("dave@elsewhere.test", nil), 554, smtp.EnhancedCode{5, 7, 1})
	wantReply(t, c.Rcpt("nobody@example.test", nil), 550, smtp.EnhancedCode{5, 1, 1})
}

func TestSubmissionImplicitTLS(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(SubmissionTLS, false)
	login(t, c, alice)
	if _, err := send(c, alice, []string{bob}, testMessage); err != nil {
		t.Fatal(err)
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 1 || jobs[0].Auth != alice {
		t.Fatalf("jobs = %+v", jobs)
	}
}

func TestSubmissionInsecureAuthAllowed(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowInsecureAuth = true })
	c := e.dial(Submission, false)
	login(t, c, alice)
	if _, err := send(c, alice, []string{bob}, testMessage); err != nil {
		t.Fatal(err)
	}
}
