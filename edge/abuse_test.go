package edge

import (
	"bufio"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
)

// withLimits configures the abuse limits on the env's own SQLite store.
func withLimits(lc abuse.Config) func(*Config) {
	return func(c *Config) {
		lc.MaxDelay = time.Millisecond
		c.Limits = abuse.New(c.Dir.(*sqlite.DB), lc, nil) // newEnv's store
	}
}

func TestConnectionRateRefusedAtGreeting(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{ConnPerIPMinute: 2}))
	e.dial(MX, false)
	e.dial(Submission, false) // the counter is per IP, across listeners
	for _, tc := range []struct {
		mode Mode
		dial func(addr string) (net.Conn, error)
	}{
		{MX, func(a string) (net.Conn, error) { return net.Dial("tcp", a) }},
		{SubmissionTLS, func(a string) (net.Conn, error) { return tls.Dial("tcp", a, e.client) }},
	} {
		c, err := tc.dial(e.addr[tc.mode])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("%v: reading the greeting: %v", tc.mode, err)
		}
		if want := "421 4.7.0 " + testHostname + " Too many connections from your address, try again later\r\n"; line != want {
			t.Fatalf("%v: greeting %q, want %q", tc.mode, line, want)
		}
	}
}

func TestAuthFailuresBlock(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{AuthFailures: 3}))
	// go-smtp closes a connection after its third error: use two.
	c := e.dial(Submission, true)
	for range 2 {
		wantReply(t, c.Auth(sasl.NewPlainClient("", alice, "wrong")), 535, smtp.EnhancedCode{5, 7, 8})
	}
	c = e.dial(Submission, true)
	wantReply(t, c.Auth(sasl.NewPlainClient("", alice, "wrong")), 535, smtp.EnhancedCode{5, 7, 8})
	// Blocked now, even with the right password, from this IP...
	wantReply(t, c.Auth(sasl.NewPlainClient("", alice, testPassword)), 454, smtp.EnhancedCode{4, 7, 0})
	wantReply(t, c.Auth(sasl.NewPlainClient("", bob, testPassword)), 454, smtp.EnhancedCode{4, 7, 0})
	if got := counter(t, e.m.Rejected, "auth_blocked"); got != 2 {
		t.Errorf("auth_blocked rejections = %v, want 2", got)
	}
}

func TestAuthFailuresBlockAccount(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{AuthFailures: 2}))
	ctx := t.Context()
	// Two failures for alice from elsewhere (another edge node, another IP).
	for range 2 {
		a, ok := e.srv.cfg.Limits.BeginAuth(ctx, "203.0.113.50", alice)
		if !ok {
			t.Fatal("failure refused")
		}
		a.Failed(ctx)
	}
	c := e.dial(Submission, true)
	wantReply(t, c.Auth(sasl.NewPlainClient("", alice, testPassword)), 454, smtp.EnhancedCode{4, 7, 0})
	login(t, c, bob) // the IP itself is fine
}

func TestMessageAndRecipientRates(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{MessagesPerHour: 2, RecipientsPerHour: 3}))
	c := e.dial(Submission, true)
	login(t, c, alice)
	if _, err := send(c, alice, []string{bob, alice}, "From: "+alice+"\r\nSubject: 1\r\n\r\nhi\r\n"); err != nil {
		t.Fatal(err)
	}
	// One recipient left this hour.
	if err := c.Mail(alice, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(bob, nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt(alice, nil), 452, smtp.EnhancedCode{4, 7, 0})
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("From: " + alice + "\r\nSubject: 2\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Two messages sent: the third is refused at MAIL.
	wantReply(t, c.Mail(alice, nil), 451, smtp.EnhancedCode{4, 7, 0})
	// MX mail is not limited per user.
	if _, err := send(e.dial(MX, false), "someone@remote.example", []string{alice}, "Subject: mx\r\n\r\nhi\r\n"); err != nil {
		t.Fatal(err)
	}
}
