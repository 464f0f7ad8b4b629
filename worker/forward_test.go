package worker

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
)

// srsWorker is e.worker with SRS keys in e's blob store.
func (e *env) srsWorker() *Worker {
	w := e.worker(nil)
	w.cfg.SRS = &srs.Keyring{Blobs: e.blobs}
	return w
}

// object returns the content of key.
func (e *env) object(key string) string {
	e.t.Helper()
	rc, err := e.blobs.Get(e.t.Context(), key, 0, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// dsnStatus returns the message/delivery-status part of the DSN in key.
func (e *env) dsnStatus(key string) string {
	e.t.Helper()
	ent, err := gomessage.Read(strings.NewReader(e.object(key)))
	if err != nil {
		e.t.Fatal(err)
	}
	mr := ent.MultipartReader()
	if mr == nil {
		e.t.Fatalf("%s is not multipart", key)
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			e.t.Fatalf("no delivery-status part in %s: %v", key, err)
		}
		if ct, _, _ := p.Header.ContentType(); ct == "message/delivery-status" {
			b, _ := io.ReadAll(p.Body)
			return string(b)
		}
	}
}

// outboundByAuth claims the outbound jobs and indexes them by Auth.
func (e *env) outboundByAuth() map[string]store.Job {
	out := map[string]store.Job{}
	for _, j := range e.claimAll(store.QueueOutbound) {
		out[j.Auth] = j
	}
	return out
}

// TestForwardQueuesCopy: an alias with a local user and an outside target
// gives the user a copy and queues one outbound job to the target, its
// sender rewritten with SRS in the alias's domain, its object the message
// with our Delivered-To line and the job's envelope as metadata.
func TestForwardQueuesCopy(t *testing.T) {
	e := newEnv(t)
	e.alias("fwd@example.com", "someone@elsewhere.example", "alice@example.com", "other@elsewhere.example")
	j := e.job(sample, "fwd@example.com")
	e.enqueue(j)
	w := e.srsWorker()
	e.run(w)
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("dead: %+v", qs)
	}
	if n := len(e.inbox("alice")); n != 1 {
		t.Errorf("alice has %d messages, want 1", n)
	}
	jobs := e.claimAll(store.QueueOutbound)
	if len(jobs) != 1 {
		t.Fatalf("outbound jobs: %+v, want 1", jobs)
	}
	fj := jobs[0]
	if fj.Auth != ForwardAuth+"fwd@example.com" || strings.Join(fj.To, ",") != "other@elsewhere.example,someone@elsewhere.example" {
		t.Errorf("forward job = %+v", fj)
	}
	if !strings.HasPrefix(fj.From, "SRS0=") || !strings.HasSuffix(fj.From, "@example.com") {
		t.Errorf("forward sender %q, want SRS0 at example.com", fj.From)
	}
	if orig, err := w.cfg.SRS.Reverse(t.Context(), fj.From); err != nil || orig != "sender@example.net" {
		t.Errorf("SRS sender reverses to %q, %v", orig, err)
	}
	if got := e.object(fj.BlobKey); got != "Delivered-To: fwd@example.com\r\n"+sample {
		t.Errorf("forwarded object = %q", got)
	}
	info, err := e.blobs.Stat(t.Context(), fj.BlobKey)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := store.JobFromMeta(fj.BlobKey, info.Meta)
	if err != nil || meta.Queue != store.QueueOutbound || meta.From != fj.From || meta.Auth != fj.Auth {
		t.Errorf("object metadata = %+v, %v", meta, err)
	}
	if n := e.counted(resultForwarded); n != 2 {
		t.Errorf("forwarded count = %d, want 2", n)
	}
}

// TestForwardOnlyReleasesObject: a message whose recipients all lead
// elsewhere (a forwarded copy has an object of its own) leaves its object
// to the collector; one a mailbox keeps stays off the delete schedule.
func TestForwardOnlyReleasesObject(t *testing.T) {
	e := newEnv(t)
	e.alias("fwd@example.com", "someone@elsewhere.example")
	gone, kept := e.job(sample, "fwd@example.com"), e.job(sample, "alice@example.com")
	e.enqueue(gone)
	e.enqueue(kept)
	e.run(e.srsWorker())
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("dead: %+v", qs)
	}
	due, err := e.st.DueBlobDeletes(t.Context(), time.Now().Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(due, gone.BlobKey) || slices.Contains(due, kept.BlobKey) {
		t.Errorf("scheduled deletes %q; want %s (forwarded only) and not %s (in a mailbox)", due, gone.BlobKey, kept.BlobKey)
	}
}

// TestForwardTwiceOnce: the same job delivered twice (a worker died before
// its Ack) queues its forwarded copy once (invariant 3).
func TestForwardTwiceOnce(t *testing.T) {
	e := newEnv(t)
	e.alias("fwd@example.com", "someone@elsewhere.example")
	j := e.job(sample, "fwd@example.com")
	w := e.srsWorker()
	for range 2 {
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	if jobs := e.claimAll(store.QueueOutbound); len(jobs) != 1 {
		t.Fatalf("outbound jobs after two runs: %d, want 1", len(jobs))
	}
	if f, d := e.counted(resultForwarded), e.counted(resultDuplicate); f != 1 || d != 1 {
		t.Errorf("forwarded %d, duplicate %d; want 1, 1", f, d)
	}
}

// TestForwardSenders: the null sender stays null, and a sender in one of
// our domains keeps its address (its SPF already lists our hosts).
func TestForwardSenders(t *testing.T) {
	e := newEnv(t)
	e.alias("fwd@example.com", "someone@elsewhere.example")
	bounce := e.job(sample, "fwd@example.com")
	bounce.From = ""
	local := e.job(sample, "fwd@example.com")
	local.From, local.Auth = "bob@example.com", "bob@example.com"
	w := e.srsWorker()
	for _, j := range []store.Job{bounce, local} {
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	froms := map[string]bool{}
	for _, j := range e.claimAll(store.QueueOutbound) {
		froms[j.From] = true
	}
	if len(froms) != 2 || !froms[""] || !froms["bob@example.com"] {
		t.Errorf("forward senders = %v, want <> and bob@example.com", froms)
	}
}

// TestForwardLoop: a copy we forwarded that comes back (our Delivered-To
// line for the alias) and a message with more than MaxHops Received
// fields are not forwarded again: the alias's local user keeps a copy and
// the sender gets a DSN 5.4.6.
func TestForwardLoop(t *testing.T) {
	e := newEnv(t)
	e.alias("fwd@example.com", "someone@elsewhere.example", "alice@example.com")
	back := e.job("Delivered-To: FWD@example.com\r\n"+sample, "fwd@example.com")
	hops := e.job(strings.Repeat("Received: from a by b; Tue, 4 Jun 2024 10:00:00 +0000\r\n", MaxHops+1)+sample, "fwd@example.com")
	w := e.srsWorker()
	for _, j := range []store.Job{back, hops} {
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.inbox("alice")); n != 2 {
		t.Errorf("alice has %d messages, want 2", n)
	}
	jobs := e.claimAll(store.QueueOutbound)
	if len(jobs) != 2 {
		t.Fatalf("outbound jobs = %+v, want two DSNs", jobs)
	}
	texts := ""
	for _, d := range jobs {
		if d.From != "" || d.Auth != "MAILER-DAEMON@test" || d.To[0] != "sender@example.net" {
			t.Errorf("not a DSN to the sender: %+v", d)
		}
		st := e.dsnStatus(d.BlobKey)
		if !strings.Contains(st, "Final-Recipient: rfc822; fwd@example.com\r\n") || !strings.Contains(st, "Status: 5.4.6\r\n") {
			t.Errorf("delivery status:\n%s", st)
		}
		texts += st
	}
	if !strings.Contains(texts, "mail forwarding loop") || !strings.Contains(texts, "too many hops") {
		t.Errorf("reasons:\n%s", texts)
	}
}

// TestForwardJunk: mail failing SPF and DMARC is not forwarded by default:
// the alias's local user has it in Junk, and as the sender is not
// verified, no DSN goes to it (it may be forged): the recipient is counted
// refused. With ForwardJunk it is forwarded.
func TestForwardJunk(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("good.example", "v=spf1 ip4:192.0.2.1 -all")
	d.TXT("_dmarc.good.example", "v=DMARC1; p=reject")
	e := newEnv(t)
	e.alias("fwd@example.com", "someone@elsewhere.example", "alice@example.com")
	e.alias("out@example.com", "another@elsewhere.example")
	w := e.srsWorker()
	w.cfg.Checker = &authcheck.Checker{Resolver: d.Resolver(), Hostname: "mx.test"}
	forged := func() store.Job {
		j := e.job(authMessage("a@good.example"), "fwd@example.com", "out@example.com")
		j.From, j.ClientIP, j.Helo = "a@good.example", "198.51.100.1", "mx.evil.example"
		return j
	}
	if err := w.deliver(t.Context(), forged()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.mailbox("alice", junkMailbox)); n != 1 {
		t.Errorf("alice has %d messages in Junk, want 1", n)
	}
	if jobs := e.claimAll(store.QueueOutbound); len(jobs) != 0 {
		t.Errorf("outbound jobs = %+v, want none", jobs)
	}
	if n := e.counted(resultRefused); n != 2 {
		t.Errorf("refused count = %d, want 2", n)
	}

	w.cfg.ForwardJunk = true
	if err := w.deliver(t.Context(), forged()); err != nil {
		t.Fatal(err)
	}
	if jobs := e.claimAll(store.QueueOutbound); len(jobs) != 2 {
		t.Errorf("with ForwardJunk, outbound jobs = %+v, want the forward", jobs)
	}
}

// TestSRSBounceReturned: mail to a valid SRS address of ours goes back to
// the original sender with the null sender; an invalid one is refused
// (the null sender gets no DSN) and sent nowhere.
func TestSRSBounceReturned(t *testing.T) {
	e := newEnv(t)
	w := e.srsWorker()
	key, err := w.cfg.SRS.Signing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	good := e.job(sample, "")
	addr, _ := srs.Forward(key, "orig@sender.example", "example.com", good.ReceivedAt)
	good.From, good.To = "", []string{addr}
	bad := e.job(sample, "SRS0=AAAAAA=AA=sender.example=orig@example.com")
	bad.From = ""
	for _, j := range []store.Job{good, bad, good} {
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	jobs := e.claimAll(store.QueueOutbound)
	if len(jobs) != 1 {
		t.Fatalf("outbound jobs = %+v, want one", jobs)
	}
	rj := jobs[0]
	if rj.From != "" || strings.Join(rj.To, ",") != "orig@sender.example" || rj.Auth != ReturnAuth+addr {
		t.Errorf("returned bounce = %+v", rj)
	}
	if got := e.object(rj.BlobKey); got != sample {
		t.Errorf("returned object = %q", got)
	}
	if r, ref := e.counted(resultReturned), e.counted(resultRefused); r != 1 || ref != 1 {
		t.Errorf("returned %d, refused %d; want 1, 1", r, ref)
	}
}
