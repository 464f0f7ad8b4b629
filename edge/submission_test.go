package edge

import (
	"encoding/base64"
	"net"
	"net/textproto"
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
	if e.logs.Contains("wrong") {
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

// fromMessage is a message whose From: field is from.
func fromMessage(from string) string {
	return "From: " + from + "\r\nTo: Bob <bob@example.test>\r\nSubject: hi\r\n\r\nHello.\r\n"
}

// aliceMessage is a message from alice.
var aliceMessage = fromMessage("Alice <alice@example.test>")

func TestSubmissionOwnAddresses(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	// Her address in any case, a plus-address and an alias resolving to her.
	for _, from := range []string{alice, "Alice@Example.Test", "alice+lists@example.test", "team@example.test"} {
		if _, err := send(c, from, []string{bob}, fromMessage(from)); err != nil {
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
	wantReply(t, c.Rcpt("nobody@example.test", nil), 550, smtp.EnhancedCode{5, 1, 1})
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	// One remote and one local recipient: ONE outbound job with both.
	to := []string{"dave@elsewhere.test", bob}
	id, err := send(c, alice, to, aliceMessage)
	if err != nil {
		t.Fatal(err)
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 0 {
		t.Errorf("inbound jobs = %+v, want none", jobs)
	}
	jobs := e.jobs(store.QueueOutbound)
	if len(jobs) != 1 {
		t.Fatalf("outbound jobs = %+v, want 1", jobs)
	}
	j := jobs[0]
	if j.ID != id || j.Auth != alice || j.From != alice || strings.Join(j.To, ",") != strings.Join(to, ",") {
		t.Errorf("job = %+v", j)
	}
	_, meta := e.object(id)
	if got, err := store.JobFromMeta(j.BlobKey, meta); err != nil || got.Queue != store.QueueOutbound {
		t.Errorf("object metadata = %v (%v), want the outbound envelope", got, err)
	}
}

func TestSubmissionLocalOnlyStaysInbound(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	if _, err := send(c, alice, []string{bob, alice}, aliceMessage); err != nil {
		t.Fatal(err)
	}
	if jobs := e.jobs(store.QueueOutbound); len(jobs) != 0 {
		t.Errorf("outbound jobs = %+v, want none", jobs)
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 1 || len(jobs[0].To) != 2 {
		t.Errorf("inbound jobs = %+v, want one with two recipients", jobs)
	}
}

// TestRelayWithoutAuthRefused: no port relays for an unauthenticated
// client; on 587 MAIL itself needs AUTH.
func TestRelayWithoutAuthRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, false)
	if err := c.Mail("carol@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt("dave@elsewhere.test", nil), 554, smtp.EnhancedCode{5, 7, 1})
	// Even as one of our own addresses, port 25 does not relay.
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(alice, nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt("dave@elsewhere.test", nil), 554, smtp.EnhancedCode{5, 7, 1})
	for _, mode := range []Mode{Submission, SubmissionTLS} {
		c := e.dial(mode, mode == Submission)
		wantReply(t, c.Mail(alice, nil), 530, smtp.EnhancedCode{5, 7, 0})
		if err := c.Rcpt("dave@elsewhere.test", nil); err == nil {
			t.Errorf("%v: RCPT accepted without AUTH", mode)
		}
	}
	if n := len(e.jobs(store.QueueOutbound)) + len(e.objects()); n != 0 {
		t.Errorf("%d jobs or objects left", n)
	}
}

func TestSubmissionFromHeaderNotOwned(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	for _, tc := range []struct {
		msg  string
		code int
		ec   smtp.EnhancedCode
	}{
		{fromMessage("Bob <bob@example.test>"), 553, smtp.EnhancedCode{5, 7, 1}},
		{fromMessage("alice@example.test, bob@example.test"), 553, smtp.EnhancedCode{5, 7, 1}},
		{fromMessage("=?utf-8?q?Alice?= <carol@remote.test>"), 553, smtp.EnhancedCode{5, 7, 1}},
		{"From: Alice <alice@example.test>\r\n" + fromMessage("bob@example.test"), 553, smtp.EnhancedCode{5, 7, 1}},
		{"Subject: no from\r\n\r\nbody\r\n", 550, smtp.EnhancedCode{5, 6, 0}},
		{fromMessage("not an address"), 553, smtp.EnhancedCode{5, 1, 7}},
		{"From: alice@example.test\r\nX-Big: " + strings.Repeat("a", 900) + "\r\n" +
			strings.Repeat(" "+strings.Repeat("b", 900)+"\r\n", 80) + "\r\nbody\r\n", 554, smtp.EnhancedCode{5, 6, 0}},
	} {
		_, err := send(c, alice, []string{"dave@elsewhere.test"}, tc.msg)
		wantReply(t, err, tc.code, tc.ec)
		if err := c.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.objects()); n != 0 {
		t.Errorf("%d objects left after refused messages", n)
	}
	if n := len(e.jobs(store.QueueOutbound)) + len(e.jobs(store.QueueInbound)); n != 0 {
		t.Errorf("%d jobs queued for refused messages", n)
	}
	// The session goes on: her own From: is accepted, folded or not.
	folded := "From: \"Alice A.\"\r\n <alice+x@example.test>\r\nSubject: x\r\n\r\nbody\r\n"
	for _, msg := range []string{aliceMessage, folded, fromMessage("team@example.test")} {
		if _, err := send(c, alice, []string{"dave@elsewhere.test"}, msg); err != nil {
			t.Fatalf("%q: %v", msg, err)
		}
	}
}

func TestSubmissionAuthLogin(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	if !c.SupportsAuth("LOGIN") {
		t.Fatal("EHLO after STARTTLS lacks AUTH LOGIN")
	}
	wantReply(t, c.Auth(sasl.NewLoginClient(alice, "wrong")), 535, smtp.EnhancedCode{5, 7, 8})
	if err := c.Auth(sasl.NewLoginClient(alice, testPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := send(c, alice, []string{bob}, aliceMessage); err != nil {
		t.Fatal(err)
	}
}

// TestSubmissionAuthLoginNoInitialResponse drives LOGIN by hand the way
// Outlook does: no initial response, "Username:" and "Password:" asked.
func TestSubmissionAuthLoginNoInitialResponse(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowInsecureAuth = true })
	conn, err := net.Dial("tcp", e.addr[Submission])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tp := textproto.NewConn(conn)
	b64 := base64.StdEncoding.EncodeToString
	step := func(cmd string, want int, wantText string) {
		t.Helper()
		if cmd != "" {
			if err := tp.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		_, msg, err := tp.ReadResponse(want)
		if err != nil {
			t.Fatalf("%q: %v", cmd, err)
		}
		if wantText != "" && msg != wantText {
			t.Fatalf("%q: got %q, want %q", cmd, msg, wantText)
		}
	}
	step("", 220, "")
	step("EHLO client.example.net", 250, "")
	step("AUTH LOGIN", 334, b64([]byte("Username:")))
	step(b64([]byte(alice)), 334, b64([]byte("Password:")))
	step(b64([]byte(testPassword)), 235, "")
	step("MAIL FROM:<alice@example.test>", 250, "")
}

func TestSubmissionAuthLoginNotBeforeTLS(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, false)
	if c.SupportsAuth("LOGIN") || c.SupportsAuth("PLAIN") {
		t.Error("AUTH advertised before STARTTLS")
	}
	if err := c.Auth(sasl.NewLoginClient(alice, testPassword)); err == nil {
		t.Fatal("AUTH LOGIN accepted over plaintext")
	}
	wantReply(t, c.Mail(alice, nil), 530, smtp.EnhancedCode{5, 7, 0})
}

func TestSubmissionImplicitTLS(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(SubmissionTLS, false)
	login(t, c, alice)
	if _, err := send(c, alice, []string{bob}, aliceMessage); err != nil {
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
	if _, err := send(c, alice, []string{bob}, aliceMessage); err != nil {
		t.Fatal(err)
	}
}
