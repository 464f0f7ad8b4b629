package worker

import (
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

func (e *env) setQuota(name string, bytes int64) {
	e.t.Helper()
	if err := e.st.SetQuota(e.t.Context(), name+"@example.com", bytes); err != nil {
		e.t.Fatal(err)
	}
}

// TestInboundOverQuotaRetriedThenBuried: port-25 mail to a full mailbox is
// retried (the user may free space) and dead-lettered with the reason after
// store.MaxAttempts; the other recipient gets exactly one copy, and a copy
// that fills its mailbox is not held against it on the retries.
func TestInboundOverQuotaRetriedThenBuried(t *testing.T) {
	e := newEnv(t)
	e.setQuota("alice", 10)
	e.setQuota("bob", int64(len(sample))+200) // room for one copy, not two
	e.enqueue(e.job(sample, "alice@example.com", "bob@example.com"))
	e.run(e.worker(nil))
	if qs := e.settle(); qs.Dead != 1 {
		t.Fatalf("stats = %+v, want one dead job", qs)
	}
	dead, err := e.st.DeadJobs(t.Context(), store.QueueInbound, 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("DeadJobs = %+v, %v", dead, err)
	}
	if dead[0].Attempts != store.MaxAttempts || !strings.Contains(dead[0].LastError, "over quota") ||
		strings.Contains(dead[0].LastError, "\n") {
		t.Errorf("dead job: attempts %d, last error %q", dead[0].Attempts, dead[0].LastError)
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
}

// TestSubmittedOverQuotaBuried: submitted mail is dead-lettered at once.
func TestSubmittedOverQuotaBuried(t *testing.T) {
	e := newEnv(t)
	e.setQuota("carol", 10)
	j := e.job(sample, "carol@example.com", "dave@example.com")
	j.Auth = "alice@example.com"
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
	if n := len(e.inbox("carol")); n != 0 {
		t.Errorf("carol has %d messages, want 0", n)
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
	if qs := e.settle(); qs.Dead != 1 {
		t.Fatalf("stats = %+v, want the job dead for carol", qs)
	}
	if len(e.inbox("alice")) != 1 || len(e.inbox("bob")) != 1 || len(e.inbox("carol")) != 0 {
		t.Errorf("inboxes: alice %d, bob %d, carol %d; want 1, 1, 0",
			len(e.inbox("alice")), len(e.inbox("bob")), len(e.inbox("carol")))
	}
}
