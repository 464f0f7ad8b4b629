package worker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/store"
)

// sieveWorker is e.srsWorker with Sieve scripts in e's stores, and
// user's active script set to src.
func (e *env) sieveWorker(user, src string) *Worker {
	e.t.Helper()
	w := e.srsWorker()
	w.cfg.Sieve = &sievestore.Scripts{Blobs: e.blobs, Store: e.st}
	e.setScript(w, user, src)
	return w
}

func (e *env) setScript(w *Worker, user, src string) {
	e.t.Helper()
	ctx, uid := e.t.Context(), e.users[user].ID
	if err := w.cfg.Sieve.Put(ctx, uid, "main", src); err != nil {
		e.t.Fatal(err)
	}
	if err := w.cfg.Sieve.SetActive(ctx, uid, "main"); err != nil {
		e.t.Fatal(err)
	}
}

// TestSieveFileIntoFlagsRedirect: a script files into a new mailbox with
// a flag and redirects a copy; the job run twice acts once, and the
// mailbox entry points at the same object.
func TestSieveFileIntoFlagsRedirect(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["fileinto","mailbox","imap4flags","copy"];
if header :contains "subject" "café" {
  fileinto :create :flags "\\Flagged" "Cafe";
  redirect :copy "someone@elsewhere.example";
}`)
	j := e.job(sample, "alice@example.com")
	for range 2 {
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.mailbox("alice", "Cafe")
	if len(msgs) != 1 || msgs[0].BlobKey != j.BlobKey || !slices.Contains(msgs[0].Flags, `\Flagged`) {
		t.Fatalf("Cafe = %+v, want one flagged entry for %s", msgs, j.BlobKey)
	}
	if n := len(e.inbox("alice")); n != 0 {
		t.Errorf("INBOX has %d messages, want 0 (fileinto cancels the keep)", n)
	}
	jobs := e.claimAll(store.QueueOutbound)
	if len(jobs) != 1 || jobs[0].To[0] != "someone@elsewhere.example" || !strings.HasPrefix(jobs[0].From, "SRS0=") {
		t.Fatalf("outbound = %+v, want one redirect with an SRS sender", jobs)
	}
	if got := e.object(jobs[0].BlobKey); got != "Delivered-To: alice@example.com\r\n"+sample {
		t.Errorf("redirected object = %q", got)
	}
}

// TestSieveKeepAndDiscard: keep with flags lands in the INBOX once, and
// discard drops the message.
func TestSieveKeepAndDiscard(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["imap4flags","fileinto"]; addflag "\\Seen"; fileinto "INBOX"; keep;`)
	e.setScript(w, "bob", `discard;`)
	j := e.job(sample, "alice@example.com", "bob@example.com")
	if err := w.deliver(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	msgs := e.inbox("alice")
	if len(msgs) != 1 || !slices.Contains(msgs[0].Flags, `\Seen`) {
		t.Errorf("alice INBOX = %+v, want one \\Seen entry", msgs)
	}
	if n := len(e.inbox("bob")); n != 0 {
		t.Errorf("bob has %d messages after discard", n)
	}
	// Discarded everywhere: the object is handed to the collector.
	w2 := e.sieveWorker("alice", `discard;`)
	j2 := e.job(sample, "alice@example.com", "bob@example.com")
	if err := w2.deliver(t.Context(), j2); err != nil {
		t.Fatal(err)
	}
	due, err := e.st.DueBlobDeletes(t.Context(), time.Now().Add(time.Hour), 100)
	if err != nil || !slices.Contains(due, j2.BlobKey) {
		t.Errorf("due deletes %v (%v), want %s", due, err, j2.BlobKey)
	}
}

// TestSieveFailureKeeps: a script that fails at run time keeps the
// message in the INBOX.
func TestSieveFailureKeeps(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["variables","fileinto"]; set "a" "not an address"; fileinto "X"; redirect "${a}";`)
	if err := w.deliver(t.Context(), e.job(sample, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := len(e.inbox("alice")); n != 1 {
		t.Errorf("INBOX has %d messages, want 1 (implicit keep)", n)
	}
}

// TestSieveVacation: one reply per sender and period, with
// Auto-Submitted and a null sender, and none to lists or automatic mail.
func TestSieveVacation(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require "vacation"; vacation :days 1 :subject "Away" "I am away.";`)
	first := e.job(sample, "alice@example.com")
	for range 2 {
		if err := w.deliver(t.Context(), first); err != nil {
			t.Fatal(err)
		}
	}
	jobs := e.claimAll(store.QueueOutbound)
	if len(jobs) != 1 {
		t.Fatalf("outbound after one message (twice) = %+v, want one reply", jobs)
	}
	v := jobs[0]
	reply := e.object(v.BlobKey)
	if v.From != "" || v.To[0] != "sender@example.net" || v.Auth != VacationAuth+"alice@example.com" {
		t.Errorf("reply job = %+v", v)
	}
	for _, want := range []string{"Auto-Submitted: auto-replied", "Subject: Away", "In-Reply-To: <m1@example.net>", "I am away."} {
		if !strings.Contains(reply, want) {
			t.Errorf("reply lacks %q:\n%s", want, reply)
		}
	}
	if n := len(e.inbox("alice")); n != 1 {
		t.Errorf("INBOX has %d messages, want 1", n)
	}
	if err := w.deliver(t.Context(), e.job(sample, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	list := strings.Replace(sample, "Subject:", "List-Id: <l.example.net>\r\nSubject:", 1)
	auto := strings.Replace(sample, "Subject:", "Auto-Submitted: auto-generated\r\nSubject:", 1)
	for _, raw := range []string{list, auto} {
		j := e.job(raw, "alice@example.com")
		j.From = "other@example.net"
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	if jobs := e.claimAll(store.QueueOutbound); len(jobs) != 0 {
		t.Errorf("replies to a second message, a list and automatic mail: %+v", jobs)
	}
}

// TestSieveReject: reject sends a DSN only to a verified sender; mail
// whose sender is not verified is kept instead.
func TestSieveReject(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require "reject"; reject "not wanted";`)
	if err := w.deliver(t.Context(), e.job(sample, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := len(e.inbox("alice")); n != 1 {
		t.Errorf("unverified sender: INBOX has %d, want the message kept", n)
	}
	if jobs := e.claimAll(store.QueueOutbound); len(jobs) != 0 {
		t.Errorf("DSN to an unverified sender: %+v", jobs)
	}
	j := e.job(sample, "alice@example.com")
	j.Auth = "sender@example.net" // submitted: the sender logged in
	if err := w.deliver(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	jobs := e.claimAll(store.QueueOutbound)
	if len(jobs) != 1 || jobs[0].To[0] != "sender@example.net" {
		t.Fatalf("outbound = %+v, want one DSN", jobs)
	}
	if st := e.dsnStatus(jobs[0].BlobKey); !strings.Contains(st, "5.7.1") || !strings.Contains(st, "not wanted") {
		t.Errorf("DSN status:\n%s", st)
	}
	if n := len(e.inbox("alice")); n != 1 {
		t.Errorf("rejected message stored: INBOX has %d", n)
	}
}

// TestSieveSeesAuthResults: header tests see the Authentication-Results
// field of the checks.
func TestSieveSeesAuthResults(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("good.example", "v=spf1 ip4:192.0.2.1 -all")
	e := newEnv(t)
	w := e.sieveWorker("alice", `require "fileinto";
if header :contains "Authentication-Results" "spf=pass" { fileinto "Verified"; }`)
	w.cfg.Checker = &authcheck.Checker{Resolver: d.Resolver(), Hostname: "mx.test"}
	if err := e.st.EnsureUser(t.Context(), e.users["alice"].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateMailbox(t.Context(), e.users["alice"].ID, "Verified", ""); err != nil {
		t.Fatal(err)
	}
	j := e.job(authMessage("a@good.example"), "alice@example.com")
	j.From, j.ClientIP, j.Helo = "a@good.example", "192.0.2.1", "mx.good.example"
	if err := w.deliver(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	if n := len(e.mailbox("alice", "Verified")); n != 1 {
		t.Errorf("Verified has %d messages, want 1", n)
	}
}

// TestSieveVacationConcurrent: messages from one sender delivered at the
// same moment by several workers get one reply between them.
func TestSieveVacationConcurrent(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require "vacation"; vacation "I am away.";`)
	jobs := make([]store.Job, 8)
	for i := range jobs {
		jobs[i] = e.job(sample, "alice@example.com")
	}
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		go func() { errs <- w.deliver(t.Context(), j) }()
	}
	for range jobs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := e.claimAll(store.QueueOutbound); len(got) != 1 {
		t.Errorf("%d replies to one sender, want 1", len(got))
	}
}

// TestSieveBody: the body test sees the decoded text of the text parts
// (RFC 5173 section 5), :raw the body as sent.
func TestSieveBody(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["body","fileinto","mailbox"];
if body :contains "café au lait" { fileinto :create "Decoded"; }
if body :raw :contains "caf=C3=A9" { fileinto :create "Raw"; }
if body :contains "AAAA" { fileinto :create "Binary"; }`)
	raw := "From: <sender@example.net>\r\nTo: alice@example.com\r\nSubject: qp\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"un caf=C3=A9 au lait\r\n--b\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n"
	if err := w.deliver(t.Context(), e.job(raw, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	for _, box := range []string{"Decoded", "Raw"} {
		if n := len(e.mailbox("alice", box)); n != 1 {
			t.Errorf("%s has %d messages, want 1", box, n)
		}
	}
	if _, err := e.st.Mailbox(t.Context(), e.users["alice"].ID, "Binary"); err == nil {
		t.Error("the body test looked into a non-text part")
	}
}

// TestSieveVacationFrom: :from is used only when it is one of the user's
// addresses; a reply never speaks for someone else.
func TestSieveVacationFrom(t *testing.T) {
	for _, c := range []struct{ from, want string }{
		{"Alice <alice@example.com>", `From: "Alice" <alice@example.com>`},
		{"ceo@bank.example", "From: alice@example.com"},
	} {
		e := newEnv(t)
		w := e.sieveWorker("alice", `require "vacation"; vacation :from "`+c.from+`" "away";`)
		if err := w.deliver(t.Context(), e.job(sample, "alice@example.com")); err != nil {
			t.Fatal(err)
		}
		jobs := e.claimAll(store.QueueOutbound)
		if len(jobs) != 1 {
			t.Fatalf("%d replies", len(jobs))
		}
		if reply := e.object(jobs[0].BlobKey); !strings.Contains(reply, c.want+"\r\n") {
			t.Errorf(":from %q: reply\n%s\nwant %q", c.from, reply, c.want)
		}
	}
}

// TestSieveVacationNotToForged: mail failing SPF gets no vacation reply
// (its sender is most likely forged), mail passing it does.
func TestSieveVacationNotToForged(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("good.example", "v=spf1 ip4:192.0.2.1 -all")
	e := newEnv(t)
	w := e.sieveWorker("alice", `require "vacation"; vacation "away";`)
	w.cfg.Checker = &authcheck.Checker{Resolver: d.Resolver(), Hostname: "mx.test"}
	for _, ip := range []string{"198.51.100.1", "192.0.2.1"} {
		j := e.job(authMessage("a@good.example"), "alice@example.com")
		j.From, j.ClientIP, j.Helo = "a@good.example", ip, "mx.good.example"
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
		n := len(e.claimAll(store.QueueOutbound))
		if want := map[string]int{"198.51.100.1": 0, "192.0.2.1": 1}[ip]; n != want {
			t.Errorf("from %s: %d replies, want %d", ip, n, want)
		}
	}
}

// TestSieveInclude: the active script includes another of the user's
// scripts (RFC 6609).
func TestSieveInclude(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["include","fileinto"]; include "lists"; fileinto "Rest";`)
	if err := w.cfg.Sieve.Put(t.Context(), e.users["alice"].ID, "lists", `require ["fileinto","mailbox"];
if header :contains "subject" "café" { fileinto :create "Cafe"; stop; }`); err != nil {
		t.Fatal(err)
	}
	if err := w.deliver(t.Context(), e.job(sample, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := len(e.mailbox("alice", "Cafe")); n != 1 {
		t.Errorf("Cafe has %d messages, want 1", n)
	}
	if n := len(e.inbox("alice")); n != 0 {
		t.Errorf("INBOX has %d messages, want 0", n)
	}
}

// TestSieveSeveralMailboxes: one job filed into several mailboxes makes
// one entry in each, also when run twice.
func TestSieveSeveralMailboxes(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["fileinto","mailbox","copy"];
fileinto :copy :create "A"; fileinto :copy :create "B";`)
	j := e.job(sample, "alice@example.com")
	for range 2 {
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	for _, box := range []string{"A", "B", "INBOX"} {
		if n := len(e.mailbox("alice", box)); n != 1 {
			t.Errorf("%s has %d entries, want 1", box, n)
		}
	}
}
