package worker

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// mailbox returns the messages of mailbox name of user (by local part).
func (e *env) mailbox(user, name string) []store.Message {
	e.t.Helper()
	ctx := e.t.Context()
	uid := e.users[user].ID
	if err := e.st.EnsureUser(ctx, uid); err != nil {
		e.t.Fatal(err)
	}
	mb, err := e.st.Mailbox(ctx, uid, name)
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.st.Messages(ctx, uid, mb.ID, 1, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

func authMessage(from string) string {
	return "Received: from mx.sender.example by test; Tue, 4 Jun 2024 10:00:00 +0000\r\n" +
		"From: <" + from + ">\r\nTo: alice@example.com\r\nSubject: s\r\n\r\nbody\r\n"
}

func TestInboundChecks(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("good.example", "v=spf1 ip4:192.0.2.1 -all")
	d.TXT("_dmarc.good.example", "v=DMARC1; p=reject")
	d.TXT("soft.example", "v=spf1 ~all")
	d.TXT("_dmarc.soft.example", "v=DMARC1; p=quarantine")

	e := newEnv(t)
	blobs := &testenv.CountingBlobs{Store: e.blobs}
	w := e.worker(blobs)
	w.cfg.Checker = &authcheck.Checker{Resolver: d.Resolver(), Hostname: "mx.test"}

	pass := e.job(authMessage("a@good.example"), "alice@example.com", "bob@example.com")
	pass.From, pass.ClientIP, pass.Helo = "a@good.example", "192.0.2.1", "mx.good.example"
	reject := e.job(authMessage("a@good.example"), "alice@example.com")
	reject.From, reject.ClientIP, reject.Helo = "a@good.example", "198.51.100.1", "mx.evil.example"
	quarantine := e.job(authMessage("x@soft.example"), "alice@example.com")
	quarantine.From, quarantine.ClientIP, quarantine.Helo = "x@soft.example", "192.0.2.1", "mx.soft.example"
	submitted := e.job(authMessage("carol@example.com"), "alice@example.com")
	submitted.From, submitted.ClientIP, submitted.Auth = "carol@example.com", "198.51.100.1", "carol@example.com"
	for _, j := range []store.Job{pass, reject, quarantine, submitted} {
		e.enqueue(j)
	}
	e.run(w)
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("dead jobs: %+v", qs)
	}
	if n := blobs.Gets(); n != 4 {
		t.Errorf("%d object reads for 4 messages, want 4", n)
	}

	byJob := func(msgs []store.Message, j store.Job) *store.Message {
		for i := range msgs {
			if msgs[i].BlobKey == j.BlobKey {
				return &msgs[i]
			}
		}
		return nil
	}
	inbox, junk := e.mailbox("alice", store.Inbox), e.mailbox("alice", junkMailbox)
	if len(inbox) != 2 || len(junk) != 2 {
		t.Fatalf("alice: %d in INBOX, %d in Junk; want 2 and 2", len(inbox), len(junk))
	}
	m := byJob(inbox, pass)
	if m == nil {
		t.Fatal("passing message not in INBOX")
	}
	wantPrefix := "Return-Path: <a@good.example>\r\nDelivered-To: alice@example.com\r\n" +
		"Authentication-Results: mx.test;\r\n\tspf=pass smtp.helo=mx.good.example smtp.mailfrom=a@good.example;\r\n" +
		"\tdkim=none;\r\n\tdmarc=pass header.from=good.example\r\n"
	if string(m.Prefix) != wantPrefix {
		t.Errorf("prefix %q\nwant %q", m.Prefix, wantPrefix)
	}
	if m.Size != int64(len(wantPrefix)+len(authMessage("a@good.example"))) {
		t.Errorf("size %d", m.Size)
	}
	if bob := e.inbox("bob"); len(bob) != 1 || !strings.Contains(string(bob[0].Prefix), "Delivered-To: bob@example.com\r\nAuthentication-Results: mx.test;") {
		t.Errorf("bob's copy: %+v", bob)
	}
	if m := byJob(junk, reject); m == nil || !strings.Contains(string(m.Prefix), "spf=fail") || !strings.Contains(string(m.Prefix), "dmarc=fail") {
		t.Errorf("DMARC reject failure not in Junk with its results: %+v", m)
	}
	if m := byJob(junk, quarantine); m == nil || !strings.Contains(string(m.Prefix), "spf=softfail") {
		t.Errorf("DMARC quarantine failure not in Junk: %+v", m)
	}
	if m := byJob(inbox, submitted); m == nil || strings.Contains(string(m.Prefix), "Authentication-Results") {
		t.Errorf("submitted message checked: %+v", m)
	}
}

// brokenReadBlobs returns, on the first Get, a reader that fails midway.
type brokenReadBlobs struct {
	blob.Store
	calls atomic.Int64
}

func (b *brokenReadBlobs) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	rc, err := b.Store.Get(ctx, key, off, length)
	if err != nil || b.calls.Add(1) > 1 {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, 100), iotest.ErrReader(errFlaky)), rc}, nil
}

// TestInboundCheckReadFailure: a read error of the object is a temporary
// failure, with or without checks, and nothing is delivered.
func TestInboundCheckReadFailure(t *testing.T) {
	d := authchecktest.Start(t)
	e := newEnv(t)
	w := e.worker(&brokenReadBlobs{Store: e.blobs})
	w.cfg.Checker = &authcheck.Checker{Resolver: d.Resolver(), Hostname: "mx.test"}
	j := e.job(sample, "alice@example.com")
	j.ClientIP = "192.0.2.1"
	e.enqueue(j)
	e.run(w)
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("dead jobs: %+v", qs)
	}
	if msgs := e.inbox("alice"); len(msgs) != 1 || !strings.Contains(string(msgs[0].Prefix), "Authentication-Results: mx.test;") {
		t.Fatalf("after retry: %+v", msgs)
	}
	if n := e.counted(resultRetry); n != 1 {
		t.Errorf("%d retries, want 1", n)
	}
}
