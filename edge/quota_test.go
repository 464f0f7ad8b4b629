package edge

import (
	"context"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/store"
)

// fill stores a message of size bytes in address's INBOX.
func (e *testEnv) fill(address string, size int64) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.db.UserByAddress(ctx, address)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.EnsureUser(ctx, u.ID); err != nil {
		e.t.Fatal(err)
	}
	mb, err := e.db.Mailbox(ctx, u.ID, store.Inbox)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.db.InsertMessage(ctx, u.ID, mb.ID, "", store.NewMessage{BlobKey: "msg/fill", Size: size, Summary: []byte("{}")}); err != nil {
		e.t.Fatal(err)
	}
}

var mailboxFull = smtp.EnhancedCode{4, 2, 2}

func TestRcptOverQuota(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Mailboxes = e0db(c); c.DefaultQuota = 100 })
	if err := e.db.SetQuota(context.Background(), alice, 1500); err != nil {
		t.Fatal(err)
	}
	e.fill(alice, 1000)

	c := e.dial(MX, false)
	if err := c.Mail("x@elsewhere.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(alice, nil); err != nil {
		t.Fatalf("RCPT under quota: %v", err)
	}
	// bob has the default quota of 100 bytes and uses nothing.
	if err := c.Rcpt(bob, nil); err != nil {
		t.Fatalf("RCPT bob under the default quota: %v", err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}

	// RFC 1870 SIZE= lets RCPT see that the message will not fit.
	if err := c.Mail("x@elsewhere.test", &smtp.MailOptions{Size: 600}); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt(alice, nil), 452, mailboxFull)
	wantReply(t, c.Rcpt("team@example.test", nil), 452, mailboxFull)
	wantReply(t, c.Rcpt(bob, nil), 452, mailboxFull) // 600 > the default 100
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}

	// Full: refused without SIZE too.
	e.fill(alice, 500)
	if err := c.Mail("x@elsewhere.test", nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt(alice, nil), 452, mailboxFull)
	if err := c.Rcpt(bob, nil); err != nil {
		t.Fatalf("RCPT bob: %v", err)
	}

	// Unlimited overrides the default; raising the quota lets mail in.
	ctx := context.Background()
	if err := e.db.SetQuota(ctx, alice, store.QuotaUnlimited); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(alice, nil); err != nil {
		t.Fatalf("RCPT unlimited: %v", err)
	}
	if len(e.logs.Records(t, "smtp rcpt over quota")) == 0 {
		t.Error("over-quota refusals were not logged")
	}
}

func TestRcptQuotaDisabledWithoutMailboxes(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.db.SetQuota(context.Background(), alice, 10); err != nil {
		t.Fatal(err)
	}
	e.fill(alice, 1000)
	c := e.dial(MX, false)
	if err := c.Mail("x@elsewhere.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(alice, nil); err != nil {
		t.Fatalf("RCPT without a quota check: %v", err)
	}
}

// e0db returns the store the env gave the config (its Dir is the SQLite DB).
func e0db(c *Config) store.Mailboxes { return c.Dir.(store.Mailboxes) }
