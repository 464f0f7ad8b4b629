package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/domainkeys"
	"github.com/bucketmail/bucketmail/internal/resolver"
)

func sampleMessage(to string) string {
	return "Received: from client by out.local.test; Tue, 4 Jun 2024 10:00:00 +0000\r\n" +
		"From: Alice <alice@local.test>\r\n" +
		"To: " + to + "\r\n" +
		"Subject: hello\r\n" +
		"Date: Tue, 4 Jun 2024 10:00:00 +0000\r\n" +
		"Message-ID: <m1@local.test>\r\n" +
		"\r\n" +
		"Hello there,\r\nthis is the body.\r\n"
}

// TestDeliverSigned: a submitted message reaches the remote MX over
// STARTTLS with a DKIM signature that verifies against the key published
// in DNS, and its local recipient gets it in their INBOX.
func TestDeliverSigned(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	key, err := domainkeys.Generate(ctx, e.blobs, "local.test", "bmtest", "ed25519")
	if err != nil {
		t.Fatal(err)
	}
	e.zone.txt(key.Record(), key.TXT)
	cfg := e.config()
	cfg.Signer = SignerFunc(func(ctx context.Context, domain string, w io.Writer, r io.Reader) error {
		return domainkeys.Sign(ctx, e.blobs, domain, w, r)
	})
	e.run(cfg)
	e.submit(sampleMessage("bob@remote.test, carol@local.test"), "bob@remote.test", "carol@local.test")

	waitFor(t, "the remote delivery", func() bool { return len(e.remote.messages()) == 1 })
	waitFor(t, "the local delivery", func() bool { return len(e.inbox("carol")) == 1 })
	waitFor(t, "the job to be done", e.queueIdle)
	got := e.remote.messages()[0]
	if got.From != "alice@local.test" || !slices.Equal(got.To, []string{"bob@remote.test"}) {
		t.Errorf("envelope = %q -> %q", got.From, got.To)
	}
	if !got.TLS {
		t.Error("the session did not use STARTTLS")
	}
	res := resolver.New(e.zone.addr)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(got.Data), &dkim.VerifyOptions{
		LookupTXT: func(d string) ([]string, error) { return res.LookupTXT(context.Background(), d) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "local.test" {
		t.Fatalf("DKIM verifications = %+v", vs)
	}
	if !bytes.Contains(got.Data, []byte("this is the body.")) {
		t.Errorf("body lost:\n%s", got.Data)
	}
	if n := len(e.inbox("alice")); n != 0 {
		t.Errorf("sender got %d notices for a delivered message", n)
	}
}

// TestFinishedJobReleasesObject: once a job that had only remote
// recipients is done, no mailbox holds its object: its deletion is
// scheduled for the collector.
func TestFinishedJobReleasesObject(t *testing.T) {
	e := newEnv(t)
	e.run(e.config())
	j := e.submit(sampleMessage("bob@remote.test"), "bob@remote.test")
	waitFor(t, "the object scheduled for deletion", func() bool {
		due, err := e.st.DueBlobDeletes(t.Context(), time.Now().Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(due, j.BlobKey)
	})
	if n := len(e.remote.messages()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

// TestTemporaryThenSuccess: a 451 for one recipient is retried and that
// recipient gets the message once; the recipient accepted at the first
// attempt is not sent it again.
func TestTemporaryThenSuccess(t *testing.T) {
	e := newEnv(t)
	e.remote.rcpt = func(to string, calls int) error {
		if to == "bob@remote.test" && calls == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted"}
		}
		return nil
	}
	e.run(e.config())
	e.submit(sampleMessage("bob@remote.test, dave@remote.test"), "bob@remote.test", "dave@remote.test")
	waitFor(t, "the job to be done", func() bool { return e.queueIdle() && len(e.remote.messages()) == 2 })
	msgs := e.remote.messages()
	if !slices.Equal(msgs[0].To, []string{"dave@remote.test"}) || !slices.Equal(msgs[1].To, []string{"bob@remote.test"}) {
		t.Fatalf("deliveries: %q then %q", msgs[0].To, msgs[1].To)
	}
	// The job is acked (queueIdle), so no later attempt can add a copy.
	if n := len(e.remote.messages()); n != 2 {
		t.Fatalf("%d deliveries, want 2", n)
	}
	if n := len(e.inbox("alice")); n != 0 {
		t.Errorf("sender got %d notices", n)
	}
}

// TestPermanentFailureDSN: a 550 and a null MX domain bounce at once with
// one multipart/report DSN in the sender's INBOX.
func TestPermanentFailureDSN(t *testing.T) {
	e := newEnv(t)
	e.zone.add(t, "null.test. 60 IN MX 0 .")
	e.remote.rcpt = func(to string, _ int) error {
		if to == "nobody@remote.test" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	e.run(e.config())
	e.submit(sampleMessage("nobody@remote.test"), "nobody@remote.test", "x@null.test", "bob@remote.test")
	waitFor(t, "the DSN", func() bool { return len(e.inbox("alice")) == 1 })
	waitFor(t, "the job to be done", e.queueIdle)
	status := parseDSN(t, e.inbox("alice")[0])
	for _, want := range []string{
		"Reporting-MTA: dns; out.local.test",
		"Final-Recipient: rfc822; nobody@remote.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.remote.test\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user",
		"Final-Recipient: rfc822; x@null.test\r\nAction: failed\r\nStatus: 5.1.10",
	} {
		if !strings.Contains(status, want) {
			t.Errorf("delivery-status lacks %q:\n%s", want, status)
		}
	}
	if strings.Contains(status, "bob@remote.test") {
		t.Errorf("the delivered recipient is in the DSN:\n%s", status)
	}
	if n := len(e.remote.messages()); n != 1 {
		t.Errorf("%d remote deliveries, want 1 (bob)", n)
	}
}

// TestExpiryDSN: a recipient that keeps failing temporarily gets a
// "delayed" notice, then a "failed" one when the lifetime ends.
func TestExpiryDSN(t *testing.T) {
	e := newEnv(t)
	e.remote.rcpt = func(string, int) error {
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
	}
	cfg := e.config()
	// The lifetime leaves room for the delay notice on a loaded machine:
	// an attempt that starts after the lifetime sends only the failure.
	cfg.Lifetime = 2 * time.Second
	cfg.DelayNotice = 100 * time.Millisecond
	e.run(cfg)
	e.submit(sampleMessage("bob@remote.test"), "bob@remote.test")
	waitFor(t, "two notices", func() bool { return len(e.inbox("alice")) == 2 })
	waitFor(t, "the job to be done", e.queueIdle)
	msgs := e.inbox("alice")
	delayed, failed := parseDSN(t, msgs[0]), parseDSN(t, msgs[1])
	for _, want := range []string{"Action: delayed", "Status: 4.2.2", "Will-Retry-Until: "} {
		if !strings.Contains(delayed, want) {
			t.Errorf("delay notice lacks %q:\n%s", want, delayed)
		}
	}
	for _, want := range []string{"Action: failed", "Status: 4.4.7", "mailbox full"} {
		if !strings.Contains(failed, want) {
			t.Errorf("expiry notice lacks %q:\n%s", want, failed)
		}
	}
	if n := len(e.remote.messages()); n != 0 {
		t.Errorf("%d deliveries", n)
	}
}

// TestSMTPUTF8: an internationalized address goes out with SMTPUTF8 to a
// server that has it, and bounces with a clear reason from one that has not.
func TestSMTPUTF8(t *testing.T) {
	e := newEnv(t)
	plain := newRemote(t, false, false)
	cfg := e.config()
	// old.test is served by a server without SMTPUTF8 nor STARTTLS.
	cfg.Routes = map[string]string{"old.test": "127.0.0.1:" + plain.port}
	e.run(cfg)
	e.submit(sampleMessage("björn@remote.test"), "björn@remote.test")
	waitFor(t, "the remote delivery", func() bool { return len(e.remote.messages()) == 1 })
	if m := e.remote.messages()[0]; !m.UTF8 || m.To[0] != "björn@remote.test" {
		t.Errorf("delivery = %+v, want SMTPUTF8", m)
	}

	e.submit(sampleMessage("jürgen@old.test"), "jürgen@old.test", "plain@old.test")
	// The server has neither STARTTLS nor SMTPUTF8: an ASCII recipient
	// still gets the message, in plaintext (opportunistic TLS).
	waitFor(t, "the plaintext delivery", func() bool { return len(plain.messages()) == 1 })
	if m := plain.messages()[0]; m.TLS || m.UTF8 || !slices.Equal(m.To, []string{"plain@old.test"}) {
		t.Errorf("delivery = %+v", m)
	}
	waitFor(t, "the DSN", func() bool { return len(e.inbox("alice")) == 1 })
	status := parseDSN(t, e.inbox("alice")[0])
	if !strings.Contains(status, "Status: 5.6.7") || !strings.Contains(status, "SMTPUTF8") {
		t.Errorf("DSN:\n%s", status)
	}
}

// TestMXFallback: MX hosts are tried by preference; a dead first host
// falls through to the next; a domain without MX is reached by its A
// record (the implicit MX); a domain that does not exist bounces.
func TestMXFallback(t *testing.T) {
	e := newEnv(t)
	e.zone.add(t,
		"two.test. 60 IN MX 10 dead.two.test.",
		"two.test. 60 IN MX 20 mx.remote.test.",
		"dead.two.test. 60 IN A 127.0.0.2", // nothing listens there
		"amx.test. 60 IN A 127.0.0.1",
		"amx.test. 60 IN TXT \"v=spf1 -all\"",
	)
	e.run(e.config())
	e.submit(sampleMessage("a@two.test"), "a@two.test", "b@amx.test", "c@nowhere.test")
	waitFor(t, "the DSN", func() bool { return len(e.inbox("alice")) == 1 })
	waitFor(t, "the job to be done", e.queueIdle)
	var to []string
	for _, m := range e.remote.messages() {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"a@two.test", "b@amx.test"}) {
		t.Errorf("delivered to %q", to)
	}
	status := parseDSN(t, e.inbox("alice")[0])
	if !strings.Contains(status, "Final-Recipient: rfc822; c@nowhere.test\r\nAction: failed\r\nStatus: 5.1.2") {
		t.Errorf("DSN:\n%s", status)
	}
}

// TestRelayWithAuth: with a relay host every remote domain goes there,
// authenticated over STARTTLS; a static route overrides the relay.
func TestRelayWithAuth(t *testing.T) {
	e := newEnv(t)
	relay := newRemote(t, true, true)
	relay.user, relay.pass = "smtpuser", "s3cret"
	cfg := e.config()
	cfg.Relay = "127.0.0.1:" + relay.port
	cfg.RelayUser, cfg.RelayPassword = relay.user, relay.pass
	cfg.RelayTLS = &tls.Config{InsecureSkipVerify: true} // the test certificate is self-signed
	cfg.Routes = map[string]string{"remote.test": "[127.0.0.1]:" + e.remote.port}
	e.run(cfg)
	e.submit(sampleMessage("x@far.test"), "x@far.test", "bob@remote.test")
	waitFor(t, "the relay delivery", func() bool { return len(relay.messages()) == 1 })
	waitFor(t, "the routed delivery", func() bool { return len(e.remote.messages()) == 1 })
	waitFor(t, "the job to be done", e.queueIdle)
	m := relay.messages()[0]
	if m.User != "smtpuser" || !m.TLS || !slices.Equal(m.To, []string{"x@far.test"}) {
		t.Errorf("relay got %+v", m)
	}
	if m := e.remote.messages()[0]; !slices.Equal(m.To, []string{"bob@remote.test"}) {
		t.Errorf("route got %q", m.To)
	}
}

// TestRelayWrongPasswordDefers: a refused login at the relay is
// retried (the operator can fix the password without losing mail) until
// the lifetime ends, then bounces with the relay's reason.
func TestRelayWrongPasswordDefers(t *testing.T) {
	e := newEnv(t)
	relay := newRemote(t, true, true)
	relay.user, relay.pass = "smtpuser", "s3cret"
	cfg := e.config()
	cfg.Relay = "127.0.0.1:" + relay.port
	cfg.RelayUser, cfg.RelayPassword = "smtpuser", "wrong"
	cfg.RelayTLS = &tls.Config{InsecureSkipVerify: true}
	cfg.Lifetime = 300 * time.Millisecond
	e.run(cfg)
	e.submit(sampleMessage("x@far.test"), "x@far.test")
	waitFor(t, "the DSN", func() bool { return len(e.inbox("alice")) == 1 })
	status := parseDSN(t, e.inbox("alice")[0])
	if !strings.Contains(status, "Status: 4.4.7") || !strings.Contains(status, "bad credentials") {
		t.Errorf("DSN:\n%s", status)
	}
	if n := len(relay.messages()); n != 0 {
		t.Errorf("relay took %d messages", n)
	}
}

// parseDSN checks raw is a multipart/report of report-type
// delivery-status, as a mail client reads it, and returns its
// message/delivery-status part.
func parseDSN(t *testing.T, raw []byte) string {
	t.Helper()
	ent, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := ent.Header.ContentType()
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %q %v (%v)", mt, params, err)
	}
	if ent.Header.Get("Auto-Submitted") != "auto-replied" {
		t.Errorf("Auto-Submitted = %q", ent.Header.Get("Auto-Submitted"))
	}
	if !bytes.Contains(raw, []byte("Return-Path: <>")) {
		t.Errorf("the DSN's envelope sender is not null:\n%s", raw)
	}
	mr := ent.MultipartReader()
	var types []string
	var status string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := p.Header.ContentType()
		types = append(types, pt)
		if pt == "message/delivery-status" {
			b, _ := io.ReadAll(p.Body)
			status = string(b)
		}
	}
	if !slices.Equal(types, []string{"text/plain", "message/delivery-status", "text/rfc822-headers"}) {
		t.Errorf("parts = %q", types)
	}
	return status
}

// TestParseRoute covers the --transport syntax.
func TestParseRoute(t *testing.T) {
	d, hp, err := ParseRoute("Example.COM=[smtp.example.net]:587")
	if err != nil || d != "example.com" || hp != "[smtp.example.net]:587" {
		t.Errorf("ParseRoute = %q %q %v", d, hp, err)
	}
	for _, bad := range []string{"example.com", "=h:1", "example.com=host", "a@b=h:1"} {
		if _, _, err := ParseRoute(bad); err == nil {
			t.Errorf("ParseRoute(%q) succeeded", bad)
		}
	}
}

// TestTLSHandshakeFailureFallsBack: when STARTTLS is offered but the
// handshake fails, opportunistic TLS delivers in plaintext instead.
func TestTLSHandshakeFailureFallsBack(t *testing.T) {
	e := newEnv(t)
	old := newRemote(t, true, true, func(s *smtp.Server) {
		s.TLSConfig = s.TLSConfig.Clone()
		s.TLSConfig.MaxVersion = tls.VersionTLS12
	})
	cfg := e.config()
	cfg.Routes = map[string]string{"old.test": "127.0.0.1:" + old.port}
	cfg.TLSConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
	e.run(cfg)
	e.submit(sampleMessage("x@old.test"), "x@old.test")
	waitFor(t, "the delivery", func() bool { return len(old.messages()) == 1 })
	if old.messages()[0].TLS {
		t.Error("delivered over TLS, want the plaintext fallback")
	}
}

// TestLimiter: PerDestination sessions per host at once, hosts apart.
func TestLimiter(t *testing.T) {
	l := newLimiter(2)
	ctx := t.Context()
	r1, _ := l.acquire(ctx, "mx.a.test")
	_, _ = l.acquire(ctx, "MX.A.test")
	if _, err := l.acquire(ctx, "mx.b.test"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(short, "mx.a.test"); err == nil {
		t.Fatal("a third session to mx.a.test was allowed")
	}
	r1()
	if _, err := l.acquire(ctx, "mx.a.test"); err != nil {
		t.Fatal(err)
	}
}
