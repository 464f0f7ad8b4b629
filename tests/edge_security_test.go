package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"

	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
)

// TestEdgeSecurity runs the SMTP edge's defences against the binary:
// sending as another user on submission, SMTP smuggling through bare CR
// and LF, local sender spoofing on port 25 and, last because it blocks
// 127.0.0.1 on port 25 for the rest of the window, address harvesting.
func TestEdgeSecurity(t *testing.T) {
	dnsSrv := authchecktest.Start(t)
	dnsSrv.TXT("example.org", "v=spf1 -all") // our domain: nobody sends it over port 25
	rm := startOutboundRemote(t)
	w := setupWorld(t, "--transport", "remote.example=127.0.0.1:"+rm.port, "--dns-resolver", dnsSrv.Addr,
		"--allow-insecure-auth", "--limit-unknown-rcpts", "8", "--unknown-rcpt-delay", "1ms")
	t.Run("SendAsAnother", func(t *testing.T) { testSendAsAnother(t, w) })
	t.Run("Smuggling", func(t *testing.T) { testSmuggling(t, w, rm) })
	t.Run("LocalSpoofing", func(t *testing.T) { testLocalSpoofing(t, w) })
	t.Run("Harvesting", func(t *testing.T) { testHarvesting(t, w) })
}

// testSendAsAnother: alice on submission tries every way of naming bob or
// someone else as author or sender; each gets 553 and reaches nobody. Her
// own message in the obsolete "From :" syntax reaches bob, and IMAP shows
// her as its sender.
func testSendAsAnother(t *testing.T, w *world) {
	c := dialSMTP(t, w.srv.addr("submission"))
	if err := c.Auth(sasl.NewPlainClient("", alice, alicePass)); err != nil {
		t.Fatal(err)
	}
	body := "To: <" + bob + ">\r\nSubject: spoof\r\n\r\nx\r\n"
	for _, header := range []string{
		"From : <" + bob + ">\r\nFrom: <" + alice + ">\r\n",
		"From: <" + alice + ">\r\nfrom: <" + bob + ">\r\n",
		"From: <" + alice + ">, <" + bob + ">\r\n",
		"From: <" + alice + ">\r\nSender: <" + bob + ">\r\n",
		"Resent-From: <" + bob + ">\r\nFrom: <" + alice + ">\r\n",
		"FROM\t: <someone@remote.example>\r\n",
		"Fr om: <" + bob + ">\r\nFrom: <" + alice + ">\r\n",
		"From: " + alice + " <" + bob + ">\r\n",
		"From: =?utf-8?q?" + strings.ReplaceAll(bob, "@", "=40") + "?=\r\n",
	} {
		if code := smtpCode(send(c, alice, []string{bob}, header+body)); code != 553 {
			t.Errorf("%q: %d, want 553", header, code)
		}
	}
	ok := "From : Alice <" + alice + ">\r\nTo: <" + bob + ">\r\nSubject: own obsolete from\r\n\r\nx\r\n"
	if err := send(c, alice, []string{bob}, ok); err != nil {
		t.Fatal(err)
	}
	msgs := w.waitSubjects(t, bob, w.bobPass, "INBOX", "own obsolete from")

	// The same with Python's smtplib, which delivers its 6 allowed variants
	// to alice herself.
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	cmd := exec.Command(python, "python/sendas.py", "--submission", w.srv.addr("submission"),
		"--user", alice, "--password", alicePass, "--other", bob, "--rcpt", alice)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("sendas.py:\n%s", out)
	if err != nil {
		t.Fatalf("sendas.py failed: %v", err)
	}
	w.waitSubjects(t, alice, alicePass, "INBOX", "py-sendas-ok-0", "py-sendas-ok-1", "py-sendas-ok-2",
		"py-sendas-ok-3", "py-sendas-ok-4", "py-sendas-ok-5")
	ic := dialIMAP(t, w.srv.addr("imap"), bob, w.bobPass, nil)
	defer ic.Logout()
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	got, err := ic.Fetch(imap.UIDSetNum(msgs[0].UID), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil || len(got) != 1 || got[0].Envelope == nil {
		t.Fatalf("FETCH ENVELOPE: %v %v", got, err)
	}
	if from := got[0].Envelope.From; len(from) != 1 || from[0].Addr() != alice {
		t.Errorf("ENVELOPE From = %v, want %s", from, alice)
	}
}

// smuggledData hides three more transactions behind "\n.\n", "\r.\r\n"
// and "\r.\r", for a next hop that takes a bare LF or CR as a line break.
const smuggledData = "From: <" + alice + ">\r\nTo: <carol@remote.example>\r\nSubject: smuggle\r\n\r\n" +
	"one\n.\nMAIL FROM:<" + alice + ">\nRCPT TO:<eve@remote.example>\nDATA\n" +
	"two\r.\r\nMAIL FROM:<" + alice + ">\r\nRCPT TO:<eve@remote.example>\r\nDATA\r\n" +
	"three\r.\rMAIL FROM:<" + alice + ">\rRCPT TO:<eve@remote.example>\rDATA\rfour\r\n.\r\n"

// testSmuggling submits the smuggling block in raw bytes: the remote
// server gets one message, for carol only, with CRLF line breaks only and
// the would-be commands as lines of its body.
func testSmuggling(t *testing.T, w *world, rm *outboundRemote) {
	before := len(rm.messages())
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + alice + "\x00" + alicePass))
	replies := rawExchange(t, w.srv.addr("submission"), "EHLO client.example\r\nAUTH PLAIN "+plain+"\r\n"+
		"MAIL FROM:<"+alice+">\r\nRCPT TO:<carol@remote.example>\r\nDATA\r\n"+smuggledData+"QUIT\r\n")
	if n := strings.Count(replies, "queued as"); n != 1 {
		t.Fatalf("replies:\n%s", replies)
	}
	eventually(t, deliveryTimeout, "the remote delivery", func() (bool, string) {
		n := len(rm.messages())
		return n > before, fmt.Sprint(n, " messages")
	})
	// Anything smuggled would arrive right behind it.
	time.Sleep(500 * time.Millisecond)
	msgs := rm.messages()[before:]
	if len(msgs) != 1 || len(msgs[0].to) != 1 || msgs[0].to[0] != "carol@remote.example" {
		t.Fatalf("remote got %d messages: %+v", len(msgs), msgs)
	}
	data := msgs[0].data
	for i, c := range data {
		if (c == '\r' && (i+1 == len(data) || data[i+1] != '\n')) || (c == '\n' && (i == 0 || data[i-1] != '\r')) {
			t.Fatalf("bare line break at %d of the outbound message: %q", i, data)
		}
	}
	if !bytes.Contains(data, []byte("\r\nthree\r\n.\r\nMAIL FROM:<"+alice+">\r\nRCPT TO:<eve@remote.example>\r\nDATA\r\nfour\r\n")) {
		t.Errorf("outbound message: %q", data)
	}
}

// testLocalSpoofing: an outside client on port 25 cannot use alice's
// address as MAIL FROM (550 5.7.1); with a remote MAIL FROM and alice in
// From: the message reaches bob's Junk, not his INBOX.
func testLocalSpoofing(t *testing.T, w *world) {
	c := dialSMTP(t, w.srv.addr("smtp"))
	err := send(c, alice, []string{bob}, message(alice, bob, "spoofed envelope", "x"))
	if code := smtpCode(err); code != 550 || !strings.Contains(err.Error(), "local domain") {
		t.Errorf("MAIL FROM a local user on port 25: %v, want 550 5.7.1", err)
	}
	if err := send(c, sender, []string{bob}, message(alice, bob, "spoofed header", "x")); err != nil {
		t.Fatal(err)
	}
	if err := send(c, sender, []string{bob}, message(sender, bob, "honest remote", "x")); err != nil {
		t.Fatal(err)
	}
	w.waitSubjects(t, bob, w.bobPass, "Junk", "spoofed header")
	w.waitSubjects(t, bob, w.bobPass, "INBOX", "own obsolete from", "honest remote")
}

// testHarvesting: a session with a typo among known recipients is served;
// a pipelined burst of unknown recipients gets 8 × 550, then 421 and the
// connection closes; the next session from the same IP gets 421 at MAIL.
func testHarvesting(t *testing.T, w *world) {
	c := dialSMTP(t, w.srv.addr("smtp"))
	if err := c.Mail(sender, nil); err != nil {
		t.Fatal(err)
	}
	if code := smtpCode(c.Rcpt("bbo@example.org", nil)); code != 550 {
		t.Errorf("typo: %d, want 550", code)
	}
	if err := send(c, sender, []string{bob}, message(sender, bob, "after a typo", "x")); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()

	var burst strings.Builder
	for i := range 200 {
		fmt.Fprintf(&burst, "RCPT TO:<harvest%d@example.org>\r\n", i)
	}
	replies := rawExchange(t, w.srv.addr("smtp"), "EHLO client.example\r\nMAIL FROM:<"+sender+">\r\n"+burst.String()+"QUIT\r\n")
	// The typo session counted one unknown recipient already.
	want := strings.Repeat("550 5.1.1 No such user here\r\n", 7) + "421 4.7.0 mx.test.example Too many unknown recipients, closing connection\r\n"
	if !strings.HasSuffix(replies, want) {
		t.Fatalf("burst replies:\n%s", replies)
	}
	replies = rawExchange(t, w.srv.addr("smtp"), "EHLO client.example\r\nMAIL FROM:<"+sender+">\r\nRCPT TO:<"+bob+">\r\nQUIT\r\n")
	if !strings.HasSuffix(replies, "\r\n421 4.7.0 mx.test.example Too many unknown recipients, closing connection\r\n") {
		t.Fatalf("later session:\n%s", replies)
	}
	w.waitSubjects(t, bob, w.bobPass, "INBOX", "own obsolete from", "honest remote", "after a typo")
}

// rawExchange writes script to a new connection in one go and returns all
// the server answered until it closed the connection.
func rawExchange(t *testing.T, addr, script string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, script); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading replies: %v\n%s", err, got)
	}
	return string(got)
}
