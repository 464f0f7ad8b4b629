package edge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/store"
)

// withHarvestLimit sets the unknown-recipient bound on the env's store,
// with a delay step that keeps the test short or, with hang, one that
// no test would outlive.
func withHarvestLimit(limit int, step time.Duration) func(*Config) {
	return func(c *Config) {
		withLimits(abuse.Config{})(c)
		c.UnknownRcpts, c.UnknownRcptDelay = limit, step
	}
}

// unknownRcpts is n pipelined RCPT commands for unknown local users.
func unknownRcpts(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "RCPT TO:<nobody%d@example.test>\r\n", i)
	}
	return b.String()
}

// TestHarvestBurst pipelines 200 unknown recipients: the first 8 get 550,
// the next 421 and the connection closes; a later session from the same
// IP is refused at MAIL.
func TestHarvestBurst(t *testing.T) {
	e := newEnv(t, withHarvestLimit(8, time.Millisecond))
	replies := rawSession(t, e.addr[MX], "EHLO client.example.net\r\nMAIL FROM:<carol@remote.test>\r\n"+
		unknownRcpts(200)+"QUIT\r\n")
	want := strings.Repeat("550 5.1.1 No such user here\r\n", 8) +
		"421 4.7.0 " + testHostname + " Too many unknown recipients, closing connection\r\n"
	if !strings.HasSuffix(replies, "250 2.0.0 Roger, accepting mail from <carol@remote.test>\r\n"+want) {
		t.Fatalf("replies:\n%s", replies)
	}
	replies = rawSession(t, e.addr[MX], "EHLO client.example.net\r\nMAIL FROM:<carol@remote.test>\r\n"+
		"RCPT TO:<alice@example.test>\r\nQUIT\r\n")
	if !strings.HasSuffix(replies, "\r\n421 4.7.0 "+testHostname+" Too many unknown recipients, closing connection\r\n") {
		t.Fatalf("later session:\n%s", replies)
	}
	if got := counter(t, e.m.Rejected, "unknown_rcpt_limit"); got != 2 {
		t.Errorf("Rejected{unknown_rcpt_limit} = %v, want 2", got)
	}
	if recs := e.logs.Records(t, "smtp unknown recipient limit"); len(recs) != 2 || recs[0]["level"] != "WARN" {
		t.Errorf("log records = %v", recs)
	}
	if n := len(e.jobs(store.QueueInbound)); n != 0 {
		t.Errorf("%d jobs queued", n)
	}
	// The cut transaction has its log line, with what it was refused.
	if recs := e.logs.Records(t, "smtp transaction"); len(recs) != 1 || recs[0]["result"] != "abandoned" || recs[0]["rejected_rcpts"] != float64(9) {
		t.Errorf("transaction log = %v", recs)
	}
}

// TestHarvestTypos: a sender with a couple of unknown recipients among
// known ones, in two sessions, is neither slowed nor cut off. The delay
// step is an hour: a delayed reply would outlast the test.
func TestHarvestTypos(t *testing.T) {
	e := newEnv(t, withHarvestLimit(8, time.Hour))
	for range 2 {
		c := e.dial(MX, false)
		if err := c.Mail("carol@remote.test", nil); err != nil {
			t.Fatal(err)
		}
		for _, rcpt := range []string{alice, "alcie@example.test", bob, "team@example.test", "alice+x@example.test"} {
			err := c.Rcpt(rcpt, nil)
			if rcpt == "alcie@example.test" {
				wantReply(t, err, 550, smtp.EnhancedCode{5, 1, 1})
			} else if err != nil {
				t.Fatalf("RCPT %s: %v", rcpt, err)
			}
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.jobs(store.QueueInbound)); n != 2 {
		t.Errorf("%d jobs queued, want 2", n)
	}
}

// TestHarvestSubmissionBounded: an authenticated user is not delayed (the
// step is an hour) but gets 421 past the bound too, counted per user.
func TestHarvestSubmissionBounded(t *testing.T) {
	e := newEnv(t, withHarvestLimit(4, time.Hour))
	c := e.dial(Submission, true)
	login(t, c, alice)
	if err := c.Mail(alice, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		wantReply(t, c.Rcpt(fmt.Sprintf("nobody%d@example.test", i), nil), 550, smtp.EnhancedCode{5, 1, 1})
	}
	wantReply(t, c.Rcpt("nobody9@example.test", nil), 421, smtp.EnhancedCode{4, 7, 0})
	if err := c.Noop(); err == nil {
		t.Error("the connection is still open after 421")
	}
	// Port 25 from the same IP has a count of its own.
	mx := e.dial(MX, false)
	if err := mx.Mail("carol@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := mx.Rcpt(alice, nil); err != nil {
		t.Fatal(err)
	}
}

func TestHarvestWait(t *testing.T) {
	s := &session{srv: &Server{cfg: Config{UnknownRcpts: 20, UnknownRcptDelay: time.Second}}}
	for n, want := range map[int64]time.Duration{1: 0, 5: 0, 6: time.Second, 8: 3 * time.Second, 13: 8 * time.Second, 20: 8 * time.Second} {
		if got := s.harvestWait(n); got != want {
			t.Errorf("harvestWait(%d) = %v, want %v", n, got, want)
		}
	}
}

// The bound off (0), a burst gets 550 throughout, as before.
func TestHarvestOff(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{}))
	replies := rawSession(t, e.addr[MX], "EHLO client.example.net\r\nMAIL FROM:<carol@remote.test>\r\n"+
		unknownRcpts(50)+"QUIT\r\n")
	if n := strings.Count(replies, "550 5.1.1"); n != 50 || !strings.HasSuffix(replies, "221 2.0.0 Bye\r\n") {
		t.Fatalf("%d refusals; replies:\n%s", n, replies)
	}
}

// TestHarvestPipelinedRest: commands pipelined behind the recipient that
// hit the bound (a known recipient, DATA, a new MAIL) are not executed:
// nothing is queued and the client hears nothing after the 421.
func TestHarvestPipelinedRest(t *testing.T) {
	e := newEnv(t, withHarvestLimit(4, time.Millisecond))
	replies := rawSession(t, e.addr[MX], "EHLO client.example.net\r\nMAIL FROM:<carol@remote.test>\r\n"+unknownRcpts(5)+
		"RCPT TO:<alice@example.test>\r\nDATA\r\nSubject: behind\r\n\r\nbody\r\n.\r\n"+
		"MAIL FROM:<carol@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: again\r\n\r\nbody\r\n.\r\nQUIT\r\n")
	if !strings.HasSuffix(replies, "550 5.1.1 No such user here\r\n421 4.7.0 "+testHostname+" Too many unknown recipients, closing connection\r\n") {
		t.Fatalf("replies:\n%s", replies)
	}
	if n := len(e.jobs(store.QueueInbound)); n != 0 {
		t.Errorf("%d jobs queued behind the hang-up", n)
	}
	if n := len(e.objects()); n != 0 {
		t.Errorf("%d objects stored behind the hang-up", n)
	}
}
