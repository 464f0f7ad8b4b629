package e2e

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// maxMessageSize is the --max-message-size of the scenario's server, small
// so that the 552 refusal is cheap to provoke.
const maxMessageSize = 64 << 10

// deliveryTimeout bounds how long an accepted message may take to appear.
const deliveryTimeout = 30 * time.Second

// Test accounts of the end-to-end scenario.
const (
	alice     = "alice@example.org"
	alicePass = "alice-secret-1"
	bob       = "bob@example.org"
	sender    = "sender@remote.example"
)

// world is a running server with its data directory and accounts.
type world struct {
	t       *testing.T
	dataDir string
	srv     *server
	bobPass string
}

// setupWorld starts "bucketmail run" and creates the accounts with the admin
// commands while it runs.
func setupWorld(t *testing.T, extra ...string) *world {
	w := &world{t: t, dataDir: t.TempDir()}
	w.start(t, extra...)
	mustAdmin(t, w.dataDir, "", "domain", "add", "example.org")
	mustAdmin(t, w.dataDir, "", "domain", "add", "catchall.example")
	mustAdmin(t, w.dataDir, alicePass+"\n", "user", "add", alice, "--password-stdin")
	out := mustAdmin(t, w.dataDir, "", "user", "add", bob)
	pw, ok := strings.CutPrefix(strings.TrimSpace(out), "password: ")
	if !ok || pw == "" {
		t.Fatalf("user add without --password-stdin printed %q", out)
	}
	w.bobPass = pw
	mustAdmin(t, w.dataDir, "", "alias", "add", "sales@example.org", alice, bob)
	mustAdmin(t, w.dataDir, "", "alias", "add", "@catchall.example", bob)
	return w
}

// start starts the server; t is the (sub)test that waits for it, the
// process lives until the end of the whole test.
func (w *world) start(t *testing.T, extra ...string) {
	args := append([]string{"run"}, listenerFlags...)
	args = append(args, "--max-message-size", strconv.Itoa(maxMessageSize), "--worker-lease", "5s")
	w.srv = startServerFor(t, w.t, w.dataDir, append(args, extra...)...)
}

// waitSubjects waits until mailbox of user holds exactly want (any order).
func (w *world) waitSubjects(t *testing.T, user, pass, mailbox string, want ...string) []mailMessage {
	t.Helper()
	c := dialIMAP(t, w.srv.addr("imap"), user, pass, nil)
	defer c.Logout()
	want = slices.Clone(want)
	slices.Sort(want)
	var msgs []mailMessage
	eventually(t, deliveryTimeout, user+" "+mailbox+" holds "+strings.Join(want, ", "), func() (bool, string) {
		msgs = listMailbox(t, c, mailbox)
		got := subjects(msgs)
		slices.Sort(got)
		return slices.Equal(got, want), strings.Join(got, ", ")
	})
	return msgs
}

func TestEndToEnd(t *testing.T) {
	w := setupWorld(t)
	smtpAddr := w.srv.addr("smtp")

	t.Run("SMTPRefusals", func(t *testing.T) {
		c := dialSMTP(t, smtpAddr)
		err := send(c, sender, []string{"nobody@example.org"}, message(sender, "nobody@example.org", "x", "x"))
		if smtpCode(err) != 550 {
			t.Errorf("unknown local user: %v, want 550", err)
		}
		err = send(c, sender, []string{"someone@elsewhere.example"}, message(sender, "someone@elsewhere.example", "x", "x"))
		if smtpCode(err) != 554 {
			t.Errorf("relay: %v, want 554", err)
		}
		big := message(sender, alice, "too big", strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 1200))
		err = send(c, sender, []string{alice}, big)
		if smtpCode(err) != 552 {
			t.Errorf("oversize message: %v, want 552", err)
		}
	})

	t.Run("Delivery", func(t *testing.T) {
		mustSend(t, smtpAddr, sender, []string{alice}, message(sender, alice, "direct", "hello alice"))
		mustSend(t, smtpAddr, sender, []string{"alice+news@example.org"}, message(sender, "alice+news@example.org", "plus", "tagged"))
		mustSend(t, smtpAddr, sender, []string{"Sales@Example.org"}, message(sender, "sales@example.org", "sales", "to the team"))
		mustSend(t, smtpAddr, sender, []string{"anything@catchall.example"}, message(sender, "anything@catchall.example", "catchall", "caught"))

		msgs := w.waitSubjects(t, alice, alicePass, "INBOX", "direct", "plus", "sales")
		w.waitSubjects(t, bob, w.bobPass, "INBOX", "sales", "catchall")

		c := dialIMAP(t, w.srv.addr("imap"), alice, alicePass, nil)
		listMailbox(t, c, "INBOX")
		for _, m := range msgs {
			if m.Subject != "direct" {
				continue
			}
			body := fetchBody(t, c, m.UID)
			for _, want := range []string{"Received: ", "Subject: direct\r\n", "\r\n\r\nhello alice\r\n"} {
				if !strings.Contains(body, want) {
					t.Errorf("message as served lacks %q:\n%s", want, body)
				}
			}
		}
	})

	t.Run("AppendMoveExpunge", func(t *testing.T) {
		c := dialIMAP(t, w.srv.addr("imap"), alice, alicePass, nil)
		draft := message(alice, bob, "draft", "not sent yet")
		ac := c.Append("Drafts", int64(len(draft)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft}})
		if _, err := io.WriteString(ac, draft); err != nil {
			t.Fatal(err)
		}
		if err := ac.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := ac.Wait(); err != nil {
			t.Fatalf("APPEND: %v", err)
		}
		drafts := listMailbox(t, c, "Drafts")
		if len(drafts) != 1 || drafts[0].Subject != "draft" || !slices.Contains(drafts[0].Flags, imap.FlagDraft) {
			t.Fatalf("Drafts after APPEND = %+v", drafts)
		}
		if got := fetchBody(t, c, drafts[0].UID); got != draft {
			t.Errorf("appended message served as %q, want %q", got, draft)
		}
		if _, err := c.Move(imap.UIDSetNum(drafts[0].UID), "Archive").Wait(); err != nil {
			t.Fatalf("MOVE: %v", err)
		}
		if left := listMailbox(t, c, "Drafts"); len(left) != 0 {
			t.Errorf("Drafts after MOVE = %+v", left)
		}
		if got := subjects(listMailbox(t, c, "Archive")); !slices.Equal(got, []string{"draft"}) {
			t.Errorf("Archive after MOVE = %v", got)
		}

		// EXPUNGE removes only what is flagged \Deleted.
		archived := listMailbox(t, c, "Archive")
		store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
		if err := c.Store(imap.UIDSetNum(archived[0].UID), store, nil).Close(); err != nil {
			t.Fatalf("STORE: %v", err)
		}
		expunged, err := c.Expunge().Collect()
		if err != nil || len(expunged) != 1 {
			t.Fatalf("EXPUNGE = %v, %v; want one message", expunged, err)
		}
		if left := listMailbox(t, c, "Archive"); len(left) != 0 {
			t.Errorf("Archive after EXPUNGE = %+v", left)
		}
		if got := subjects(listMailbox(t, c, "INBOX")); len(got) != 3 {
			t.Errorf("INBOX changed by EXPUNGE in Archive: %v", got)
		}
	})

	t.Run("IdleNotification", func(t *testing.T) { testIdle(t, w) })
	t.Run("POP3DeleteAtQuit", func(t *testing.T) { testPOP3(t, w) })
	t.Run("HTTP", func(t *testing.T) { testHTTP(t, w) })
	t.Run("PasswordChangeWhileRunning", func(t *testing.T) {
		// A login just before puts the old password in the login cache
		// (--auth-cache-ttl, on by default); the change must still win.
		p := dialPOP3(t, w.srv.addr("pop3"), bob, w.bobPass)
		p.must("QUIT")
		mustAdmin(t, w.dataDir, "new-bob-pass\n", "user", "passwd", bob, "--password-stdin")
		if _, err := tryPOP3(t, w.srv.addr("pop3"), bob, w.bobPass); err == nil {
			t.Error("old password still accepted after user passwd")
		}
		w.bobPass = "new-bob-pass"
		p = dialPOP3(t, w.srv.addr("pop3"), bob, w.bobPass)
		p.must("QUIT")
	})
	t.Run("RestartKeepsMail", func(t *testing.T) { testRestart(t, w) })
	t.Run("UserDelPurges", func(t *testing.T) { testUserDel(t, w) })
}

// testIdle checks that a client in IDLE hears of a delivery within a second
// of the message becoming visible to a second, polling client.
func testIdle(t *testing.T, w *world) {
	exists := make(chan uint32, 16)
	idler := dialIMAP(t, w.srv.addr("imap"), alice, alicePass, &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	})
	sel, err := idler.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	before := sel.NumMessages
	idle, err := idler.Idle()
	if err != nil {
		t.Fatalf("IDLE: %v", err)
	}
	defer idle.Close()

	poller := dialIMAP(t, w.srv.addr("imap"), alice, alicePass, nil)
	mustSend(t, w.srv.addr("smtp"), sender, []string{alice}, message(sender, alice, "idle", "wake up"))

	var visible time.Time
	deadline := time.Now().Add(deliveryTimeout)
	for visible.IsZero() {
		st, err := poller.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if *st.NumMessages > before {
			visible = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message never became visible")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case n := <-exists:
		if n != before+1 {
			t.Errorf("IDLE reported EXISTS %d, want %d", n, before+1)
		}
		if late := time.Since(visible); late > time.Second {
			t.Errorf("IDLE notification %s after delivery", late)
		}
	case <-time.After(time.Second):
		t.Fatal("no EXISTS during IDLE within 1s of the delivery")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("IDLE end: %v", err)
	}
}

// testPOP3 checks that DELE takes effect only at QUIT (RFC 1939 section 6):
// a session that drops without QUIT deletes nothing.
func testPOP3(t *testing.T, w *world) {
	addr := w.srv.addr("pop3")
	p := dialPOP3(t, addr, bob, w.bobPass)
	n := p.stat()
	if n != 2 {
		t.Fatalf("bob STAT = %d messages, want 2", n)
	}
	uidl := p.uidl()
	body := strings.Join(p.multi("RETR 1"), "\n")
	if !strings.Contains(body, "Subject: ") || !strings.Contains(body, "Received: ") {
		t.Errorf("RETR 1 = %q", body)
	}
	p.must("DELE 1")
	if _, err := p.cmd("RETR 1"); err == nil {
		t.Error("RETR of a message marked deleted succeeded")
	}

	imapCount := func() int {
		c := dialIMAP(t, w.srv.addr("imap"), bob, w.bobPass, nil)
		defer c.Logout()
		return len(listMailbox(t, c, "INBOX"))
	}
	if got := imapCount(); got != 2 {
		t.Errorf("INBOX holds %d messages after DELE before QUIT, want 2", got)
	}

	// Dropping the connection without QUIT must not delete anything.
	p.conn.Close()
	p2 := dialPOP3(t, addr, bob, w.bobPass)
	if got := p2.stat(); got != 2 {
		t.Errorf("STAT after a session ended without QUIT = %d, want 2", got)
	}
	p2.must("DELE 1")
	p2.must("QUIT")

	p3 := dialPOP3(t, addr, bob, w.bobPass)
	if got := p3.stat(); got != 1 {
		t.Errorf("STAT after DELE and QUIT = %d, want 1", got)
	}
	after := p3.uidl()
	if after["1"] != uidl["2"] {
		t.Errorf("UIDL after deleting message 1 = %v, want message 2's id %q", after, uidl["2"])
	}
	p3.must("QUIT")
	if got := imapCount(); got != 1 {
		t.Errorf("INBOX holds %d messages after POP3 QUIT, want 1", got)
	}
}

func testHTTP(t *testing.T, w *world) {
	base := "http://" + w.srv.addr("http")
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	// /metrics and /debug/pprof have no authentication: they are served
	// on the private metrics listener, never on the public one.
	if code, _ := get("/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public HTTP listener = %d, want 404", code)
	}
	base = "http://" + w.srv.addr("metrics")
	code, body := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`bucketmail_messages_accepted_total{listener="smtp"}`,
		`bucketmail_messages_rejected_total{reason="unknown_user"} 1`,
		`bucketmail_messages_rejected_total{reason="relay_denied"} 1`,
		`bucketmail_messages_rejected_total{reason="too_big"} 1`,
		`bucketmail_queue_jobs{queue="inbound",state="pending"} 0`,
		`bucketmail_queue_jobs{queue="inbound",state="dead"} 0`,
		`bucketmail_deliveries_total{result="delivered"}`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// testRestart stops the server with SIGTERM, starts it again on the same
// data directory, and checks the mail is still there with the same UIDL.
func testRestart(t *testing.T, w *world) {
	p := dialPOP3(t, w.srv.addr("pop3"), alice, alicePass)
	uidlBefore := p.uidl()
	p.must("QUIT")
	inboxBefore := subjects(w.waitSubjects(t, alice, alicePass, "INBOX", "direct", "plus", "sales", "idle"))
	c := dialIMAP(t, w.srv.addr("imap"), bob, w.bobPass, nil)
	bobBefore := subjects(listMailbox(t, c, "INBOX"))
	c.Logout()

	w.srv.stop(t)
	if !w.srv.logContains(`"msg":"bucketmail stopped"`) {
		t.Error("no orderly shutdown in the log")
	}
	w.start(t)

	if got := subjects(w.waitSubjects(t, alice, alicePass, "INBOX", inboxBefore...)); len(got) != len(inboxBefore) {
		t.Errorf("INBOX after restart = %v, want %v", got, inboxBefore)
	}
	p = dialPOP3(t, w.srv.addr("pop3"), alice, alicePass)
	if got := p.uidl(); fmt.Sprint(got) != fmt.Sprint(uidlBefore) {
		t.Errorf("UIDL after restart = %v, want %v", got, uidlBefore)
	}
	p.must("QUIT")
	// The restarted server still accepts and delivers.
	mustSend(t, w.srv.addr("smtp"), sender, []string{bob}, message(sender, bob, "after restart", "still here"))
	w.waitSubjects(t, bob, w.bobPass, "INBOX", append(bobBefore, "after restart")...)
}
