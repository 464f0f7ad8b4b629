package worker

import (
	"io"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"

	"github.com/bucketmail/bucketmail/internal/store"
)

func (e *env) setQuota(name string, bytes int64) {
	e.t.Helper()
	if err := e.st.SetQuota(e.t.Context(), name+"@example.com", bytes); err != nil {
		e.t.Fatal(err)
	}
}

// TestInboundOverQuotaRetriedThenBounced: port-25 mail to a full mailbox
// is retried (the user may free space); on the last attempt the other
// recipient has exactly one copy (a copy that fills its mailbox is not held
// against it on the retries), the remote sender gets one DSN through the
// outbound queue, and the job is done, not dead.
func TestInboundOverQuotaRetriedThenBounced(t *testing.T) {
	e := newEnv(t)
	e.setQuota("alice", 10)
	e.setQuota("bob", int64(len(sample))+200) // room for one copy, not two
	j := e.job(sample, "alice@example.com", "bob@example.com")
	e.enqueue(j)
	e.run(e.worker(nil))
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("stats = %+v, want no dead job", qs)
	}
	if n := len(e.inbox("alice")); n != 0 {
		t.Errorf("alice (over quota) has %d messages", n)
	}
	if n := len(e.inbox("bob")); n != 1 {
		t.Errorf("bob has %d messages, want 1", n)
	}
	if n := e.counted(resultRetry); n != store.MaxAttempts-1 {
		t.Errorf("retries = %d, want %d", n, store.MaxAttempts-1)
	}
	if n := e.counted(resultOverQuota); n != store.MaxAttempts {
		t.Errorf("over-quota count = %d, want %d (alice only)", n, store.MaxAttempts)
	}
	if n := e.counted(resultBounced); n != 1 {
		t.Errorf("bounced count = %d, want 1", n)
	}
	dsns := e.claimAll(store.QueueOutbound)
	if len(dsns) != 1 {
		t.Fatalf("outbound jobs = %+v, want one DSN", dsns)
	}
	d := dsns[0]
	if d.From != "" || len(d.To) != 1 || d.To[0] != "sender@example.net" || d.Auth != "MAILER-DAEMON@test" {
		t.Errorf("DSN job = %+v", d)
	}
	e.checkDSN(d.BlobKey, j.ID, "alice@example.com")
}

// TestSubmittedOverQuotaBounced: submitted mail is bounced at once: the
// local sender finds one DSN in its INBOX (delivered by an inbound job with
// the null sender), even when the job is processed again, before and after
// the DSN was delivered.
func TestSubmittedOverQuotaBounced(t *testing.T) {
	e := newEnv(t)
	e.setQuota("carol", 10)
	j := e.job(sample, "carol@example.com", "dave@example.com")
	j.From, j.Auth = "alice@example.com", "alice@example.com"
	e.enqueue(j)
	w := e.worker(nil)
	claimed := e.claimAll(store.QueueInbound)
	if len(claimed) != 1 {
		t.Fatalf("claimed %+v", claimed)
	}
	w.process(t.Context(), claimed[0])
	w.process(t.Context(), claimed[0]) // a second worker after the lease ran out
	e.run(w)
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("stats = %+v, want no dead job", qs)
	}
	w.process(t.Context(), claimed[0]) // once more, after the DSN was delivered
	e.settle()
	if n := len(e.inbox("dave")); n != 1 {
		t.Errorf("dave has %d messages, want 1", n)
	}
	if n := len(e.inbox("carol")); n != 0 {
		t.Errorf("carol has %d messages, want 0", n)
	}
	got := e.inbox("alice")
	if len(got) != 1 {
		t.Fatalf("alice has %d messages, want one DSN", len(got))
	}
	if !strings.HasPrefix(string(got[0].Prefix), "Return-Path: <>\r\n") {
		t.Errorf("DSN prefix = %q, want the null sender", got[0].Prefix)
	}
	e.checkDSN(got[0].BlobKey, j.ID, "carol@example.com")
	if qs, _ := e.st.QueueStats(t.Context(), store.QueueOutbound); qs != (store.QueueStats{}) {
		t.Errorf("outbound stats = %+v, want none", qs)
	}
}

// TestNullSenderOverQuotaNotBounced: a bounce is never bounced: mail from
// the null sender to a full mailbox is dead-lettered as before, no DSN.
func TestNullSenderOverQuotaNotBounced(t *testing.T) {
	e := newEnv(t)
	e.setQuota("carol", 10)
	j := e.job(sample, "carol@example.com", "dave@example.com")
	j.From, j.Auth = "", "MAILER-DAEMON@test"
	e.enqueue(j)
	e.run(e.worker(nil))
	if qs := e.settle(); qs.Dead != 1 {
		t.Fatalf("stats = %+v, want one dead job", qs)
	}
	dead, _ := e.st.DeadJobs(t.Context(), store.QueueInbound, 10)
	if len(dead) != 1 || dead[0].Attempts != 1 || !strings.Contains(dead[0].LastError, "over quota") {
		t.Fatalf("DeadJobs = %+v", dead)
	}
	if n := len(e.inbox("dave")); n != 1 {
		t.Errorf("dave has %d messages, want 1", n)
	}
	if qs, _ := e.st.QueueStats(t.Context(), store.QueueOutbound); qs != (store.QueueStats{}) {
		t.Errorf("outbound stats = %+v, want no DSN", qs)
	}
	if n := e.counted(resultBounced); n != 0 {
		t.Errorf("bounced count = %d, want 0", n)
	}
}

// claimAll claims every ready job of queue.
func (e *env) claimAll(queue string) []store.Job {
	e.t.Helper()
	jobs, err := e.st.Claim(e.t.Context(), queue, "test-claim", 100, 0, time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return jobs
}

// checkDSN checks that the object key is a multipart/report whose
// message/delivery-status part reports rcpt failed with 5.2.2 for the job
// queueID, and that it returns the original header.
func (e *env) checkDSN(key, queueID, rcpt string) {
	e.t.Helper()
	rc, err := e.blobs.Get(e.t.Context(), key, 0, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	ent, err := gomessage.Read(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct, params, _ := ent.Header.ContentType(); ct != "multipart/report" || params["report-type"] != "delivery-status" {
		e.t.Fatalf("DSN Content-Type = %q %v", ct, params)
	}
	mr := ent.MultipartReader()
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			e.t.Fatal(err)
		}
		ct, _, _ := p.Header.ContentType()
		b, err := io.ReadAll(p.Body)
		if err != nil {
			e.t.Fatal(err)
		}
		parts[ct] = string(b)
	}
	status := parts["message/delivery-status"]
	for _, want := range []string{"Final-Recipient: rfc822; " + rcpt + "\r\n", "Action: failed\r\n",
		"Status: 5.2.2\r\n", "X-Bucketmail-Queue-ID: " + queueID + "\r\n", "Reporting-MTA: dns; test\r\n"} {
		if !strings.Contains(status, want) {
			e.t.Errorf("delivery-status part lacks %q:\n%s", want, status)
		}
	}
	if !strings.Contains(parts["text/plain"], "mailbox full") {
		e.t.Errorf("text part = %q", parts["text/plain"])
	}
	if !strings.Contains(parts["text/rfc822-headers"], "Message-ID: <m1@example.net>\r\n") {
		e.t.Errorf("returned header = %q", parts["text/rfc822-headers"])
	}
}

// TestUnderQuotaDelivered: a quota with room, and the default quota, let
// mail in; an unlimited user ignores the default.
func TestUnderQuotaDelivered(t *testing.T) {
	e := newEnv(t)
	e.setQuota("alice", 1<<20)
	e.setQuota("bob", store.QuotaUnlimited)
	e.enqueue(e.job(sample, "alice@example.com", "bob@example.com", "carol@example.com"))
	w := e.worker(nil)
	w.cfg.DefaultQuota = 10 // carol has no quota of her own
	e.run(w)
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("stats = %+v, want the job done, carol bounced", qs)
	}
	if dsns := e.claimAll(store.QueueOutbound); len(dsns) != 1 {
		t.Errorf("outbound jobs = %+v, want one DSN for carol", dsns)
	}
	if len(e.inbox("alice")) != 1 || len(e.inbox("bob")) != 1 || len(e.inbox("carol")) != 0 {
		t.Errorf("inboxes: alice %d, bob %d, carol %d; want 1, 1, 0",
			len(e.inbox("alice")), len(e.inbox("bob")), len(e.inbox("carol")))
	}
}
