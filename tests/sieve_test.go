package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// filterScript files newsletters flagged into a new mailbox, redirects a
// copy of some mail, and answers the rest while its owner is away.
const filterScript = `require ["fileinto","mailbox","imap4flags","copy","vacation"];
if header :contains "subject" "newsletter" {
  fileinto :create :flags "\\Flagged" "Lists";
  stop;
}
if header :contains "subject" "copy me" {
  redirect :copy "copy@remote.example";
}
vacation :days 1 :subject "Away" "I am away until Monday.";
`

// TestSieveFiltering runs a user's Sieve script through the binary: mail
// arrives over SMTP, is read over IMAP, and the redirect and vacation
// reply reach an SMTP sink on loopback. The vacation reply goes out once
// per sender, never to list mail; ManageSieve shows the script.
func TestSieveFiltering(t *testing.T) {
	rm := startOutboundRemote(t)
	w := setupWorld(t, "--transport", "remote.example=127.0.0.1:"+rm.port)
	mustAdmin(t, w.dataDir, filterScript, "sieve", "put", alice, "main", "-")
	mustAdmin(t, w.dataDir, "", "sieve", "activate", alice, "main")
	if r := admin(t, w.dataDir, "keep;\nfrob;", "sieve", "put", alice, "bad", "-"); r.code != 1 || !strings.Contains(r.stderr, "line 2 column 1") {
		t.Errorf("bad script: exit %d, %q", r.code, r.stderr)
	}
	smtpAddr := w.srv.addr("smtp")

	mustSend(t, smtpAddr, sender, []string{alice}, message(sender, alice, "newsletter 1", "news"))
	mustSend(t, smtpAddr, sender, []string{alice}, message(sender, alice, "copy me", "copy"))
	mustSend(t, smtpAddr, sender, []string{alice}, message(sender, alice, "again", "second"))
	list := strings.Replace(message("other@remote.example", alice, "list post", "post"), "Subject:", "List-Id: <l.remote.example>\r\nSubject:", 1)
	mustSend(t, smtpAddr, "other@remote.example", []string{alice}, list)

	lists := w.waitSubjects(t, alice, alicePass, "Lists", "newsletter 1")
	if !slices.Contains(lists[0].Flags, imap.FlagFlagged) {
		t.Errorf("filed without \\Flagged: %v", lists[0].Flags)
	}
	w.waitSubjects(t, alice, alicePass, "INBOX", "copy me", "again", "list post")

	copied := waitRemote(t, rm, "the redirected copy", func(m outboundMsg) bool { return slices.Equal(m.to, []string{"copy@remote.example"}) })
	if !bytes.Contains(copied.data, []byte("Subject: copy me\r\n")) {
		t.Errorf("redirected copy:\n%s", copied.data)
	}
	reply := waitRemote(t, rm, "the vacation reply", func(m outboundMsg) bool { return slices.Equal(m.to, []string{sender}) })
	if reply.from != "" || !bytes.Contains(reply.data, []byte("Auto-Submitted: auto-replied")) || !bytes.Contains(reply.data, []byte("Subject: Away")) {
		t.Errorf("vacation reply from %q:\n%s", reply.from, reply.data)
	}
	if n := countRemote(rm, func(m outboundMsg) bool { return slices.Equal(m.to, []string{sender}) }); n != 1 {
		t.Errorf("%d vacation replies to %s, want 1", n, sender)
	}
	if n := countRemote(rm, func(m outboundMsg) bool { return slices.Equal(m.to, []string{"other@remote.example"}) }); n != 0 {
		t.Errorf("%d vacation replies to list mail, want 0", n)
	}

	checkManageSieve(t, w.srv.addr("managesieve"))
}

// checkManageSieve logs in over ManageSieve after STARTTLS and lists the
// scripts.
func checkManageSieve(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	until := func(prefix string) string {
		var all strings.Builder
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("managesieve: %v after %q", err, all.String())
			}
			all.WriteString(l)
			if strings.HasPrefix(l, "OK") || strings.HasPrefix(l, "NO") || strings.HasPrefix(l, "BYE") {
				if !strings.HasPrefix(l, prefix) {
					t.Fatalf("managesieve: got %q, want %s", all.String(), prefix)
				}
				return all.String()
			}
		}
	}
	if greet := until("OK"); !strings.Contains(greet, `"SIEVE" "fileinto`) || !strings.Contains(greet, `"STARTTLS"`) {
		t.Fatalf("greeting %q", greet)
	}
	c.Write([]byte("STARTTLS\r\n"))
	until("OK")
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) // the server's certificate is self-signed
	r = bufio.NewReader(tc)
	c = tc
	until("OK")
	plain := "AGFsaWNlQGV4YW1wbGUub3JnAGFsaWNlLXNlY3JldC0x" // "\0alice@example.org\0alice-secret-1"
	c.Write([]byte(`AUTHENTICATE "PLAIN" "` + plain + "\"\r\n"))
	until("OK")
	c.Write([]byte("LISTSCRIPTS\r\n"))
	if got := until("OK"); !strings.Contains(got, `"main" ACTIVE`) {
		t.Errorf("LISTSCRIPTS: %q", got)
	}
}
