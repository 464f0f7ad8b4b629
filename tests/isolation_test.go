package e2e

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Markers that exist only in alice's data: bob must never see them.
const (
	aliceBox     = "AliceOnlyBox-7f3c"
	aliceSubject = "alice-private-subject-91d2"
	aliceBody    = "alice-private-body-4be8"
)

// hostileNames are mailbox names with which bob tries to reach alice's data.
func hostileNames() []string {
	return []string{
		"../" + alice, "../" + alice + "/INBOX", "../alice", "..", "/INBOX", "/" + alice + "/INBOX",
		alice + "/INBOX", alice + "/" + aliceBox, alice, "alice/INBOX", "~alice", "~" + alice + "/INBOX",
		"#alice", "#user/alice", "#shared/" + alice, "#public", "%", "*", "INBOX/*", "%/%",
		"&AKM-", "&AKM-/../" + aliceBox, "&Jjo-&-", "&", "&-../", aliceBox + "/../..",
		"INBOX/../../" + alice, "{u:alice}", "{u:x}:mailboxes", "msg/../../etc/passwd",
		strings.Repeat("A", 10<<10), strings.Repeat("a/", 2000) + "x",
		"a\x00b", "INBOX\x00" + alice, "x\rA001 LOGOUT", "y\r\nA002 SELECT " + aliceBox, "\x7f", "",
	}
}

// userState is what a user can observe: mailbox names, counts, message bytes.
type userState struct {
	names  []string
	counts map[string]uint32
	digest string // of every message's BODY[] and flags, mailbox by mailbox
}

func snapshotUser(t *testing.T, addr, user, pass string) userState {
	t.Helper()
	c := dialIMAP(t, addr, user, pass, nil)
	defer c.Logout()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	st := userState{counts: map[string]uint32{}}
	h := sha256.New()
	for _, l := range list {
		st.names = append(st.names, l.Mailbox)
	}
	slices.Sort(st.names)
	for _, name := range st.names {
		sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatalf("EXAMINE %q: %v", name, err)
		}
		st.counts[name] = sel.NumMessages
		fmt.Fprintf(h, "%s %d %d\n", name, sel.UIDValidity, sel.NumMessages)
		if sel.NumMessages == 0 {
			continue
		}
		sec := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			fmt.Fprintf(h, "%d %v %d\n", m.UID, m.Flags, len(m.FindBodySection(sec)))
			h.Write(m.FindBodySection(sec))
		}
	}
	st.digest = fmt.Sprintf("%x", h.Sum(nil))
	return st
}

// commandDeadline bounds every command of bob's: longer is a hang.
const commandDeadline = 20 * time.Second

// rawIMAP is an IMAP connection that shows every byte the server answers,
// so that nothing of alice's can hide in a response a library would parse away.
type rawIMAP struct {
	t                *testing.T
	addr, user, pass string
	closed           bool // the server closed the connection
	closes           []string
	last             string // the command being run
	conn             net.Conn
	r                *bufio.Reader
	n                int
	seen             strings.Builder // everything the server sent
}

func dialRawIMAP(t *testing.T, addr, user, pass string) *rawIMAP {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	c := &rawIMAP{t: t, conn: conn, r: bufio.NewReader(conn), addr: addr, user: user, pass: pass}
	c.line()
	if st := c.run("LOGIN", quoted(user), quoted(pass)); !strings.HasPrefix(st, "OK") {
		t.Fatalf("LOGIN %s: %s", user, st)
	}
	return c
}

func quoted(s string) string { return `"` + s + `"` }

// imapString is s as a quoted string when it can be one, else as a literal.
// Long names go quoted: go-imap's server (v2.0.0-beta.8) answers a
// synchronising literal over 4096 bytes with nothing at all until the
// client sends another line (it refuses the literal without a
// continuation or a tagged reply, then discards a line), so a client that
// waits for "+" as RFC 9051 section 4.3 says would wait forever.
func imapString(s string) any {
	if strings.ContainsAny(s, "\x00\r\n\"\\\x7f") {
		return lit(s)
	}
	return quoted(s)
}

func (c *rawIMAP) line() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			c.t.Errorf("IMAP server did not answer within %v (last command %.80q)", commandDeadline, c.last)
		}
		c.closed = true
		return "* CLOSED " + err.Error() + "\r\n"
	}
	c.seen.WriteString(l)
	return l
}

// lit is an argument sent as a synchronising literal (RFC 9051 section 4.3),
// so that it may hold any byte.
type lit string

// run sends one command and returns the tagged status ("OK ...", "NO ...",
// "BAD ..."). A literal the server refuses ends the command early.
func (c *rawIMAP) run(name string, args ...any) string {
	c.t.Helper()
	st := c.try(name, args...)
	if c.closed {
		// The server may drop a client that sends garbage; note it and
		// carry on over a new connection.
		c.closes = append(c.closes, fmt.Sprintf("%s %.40q", name, args))
		c.conn.Close()
		n := dialRawIMAP(c.t, c.addr, c.user, c.pass)
		c.conn, c.r, c.closed = n.conn, n.r, false
		c.try("SELECT", "INBOX")
	}
	return st
}

func (c *rawIMAP) try(name string, args ...any) string {
	c.t.Helper()
	c.n++
	c.last = fmt.Sprintf("%s %q", name, args)
	_ = c.conn.SetDeadline(time.Now().Add(commandDeadline))
	tag := fmt.Sprintf("T%d", c.n)
	buf := tag + " " + name
	for _, a := range args {
		switch a := a.(type) {
		case lit:
			buf += fmt.Sprintf(" {%d}\r\n", len(a))
			c.write(buf)
			for {
				l := c.line()
				if strings.HasPrefix(l, "+") {
					break
				}
				if strings.HasPrefix(l, tag+" ") || c.closed {
					return strings.TrimSpace(strings.TrimPrefix(l, tag+" "))
				}
			}
			buf = string(a)
		case string:
			buf += " " + a
		}
	}
	c.write(buf + "\r\n")
	for {
		l := c.line()
		if strings.HasPrefix(l, tag+" ") || c.closed {
			return strings.TrimSpace(strings.TrimPrefix(l, tag+" "))
		}
	}
}

func (c *rawIMAP) write(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.closed = true
	}
}

// TestIsolation: bob tries every way to reach alice's mailboxes over IMAP
// and POP3 with hostile names and alice's UIDs; he must never see her
// messages, mailbox names or counts, and her state must be unchanged.
func TestIsolation(t *testing.T) {
	// Without the abuse limits: the server drops bob's connection on
	// some names (NUL, invalid modified UTF-7) and he reconnects dozens of
	// times, and his POP3 attempts with alice's address fail on purpose.
	w := setupWorld(t, "--limit-conn-per-ip-minute", "0", "--limit-auth-failures", "0")
	imapAddr := w.srv.addr("imap")
	ca := dialIMAP(t, imapAddr, alice, alicePass, nil)
	if err := ca.Create(aliceBox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := ca.Create(aliceBox+"/Sub", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for i, box := range []string{"INBOX", "INBOX", aliceBox, aliceBox + "/Sub"} {
		msg := message(alice, alice, fmt.Sprintf("%s %d", aliceSubject, i), aliceBody)
		cmd := ca.Append(box, int64(len(msg)), nil)
		_, _ = cmd.Write([]byte(msg))
		_ = cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("APPEND to %s: %v", box, err)
		}
	}
	ca.Logout()
	before := snapshotUser(t, imapAddr, alice, alicePass)

	b := dialRawIMAP(t, w.srv.addr("imaps"), bob, w.bobPass)
	b.run("CREATE", "BobBox")
	msg := message(bob, bob, "bob's own", "bob body")
	b.run("APPEND", "INBOX", lit(msg))
	for _, n := range hostileNames() {
		name := imapString(n)
		b.run("SELECT", name)
		b.run("EXAMINE", name)
		b.run("STATUS", name, "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)")
		b.run("LIST", `""`, name)
		b.run("LIST", name, `"*"`)
		b.run("LIST", name, `"%"`)
		b.run("LSUB", `""`, name)
		b.run("SUBSCRIBE", name)
		b.run("CREATE", name)
		b.run("APPEND", name, lit(msg))
		b.run("RENAME", "BobBox", name)
		b.run("RENAME", name, "BobBox")
		b.run("DELETE", name)
		b.run("CREATE", "BobBox")
		if st := b.run("SELECT", "INBOX"); !strings.HasPrefix(st, "OK") {
			t.Fatalf("SELECT INBOX: %s", st)
		}
		b.run("COPY", "1:*", name)
		b.run("UID COPY", "1:100", name)
		b.run("MOVE", "1:*", name)
		b.run("APPEND", "INBOX", lit(msg))
	}
	for _, to := range []string{alice, alice + "/INBOX", "../" + alice, "~alice/" + aliceBox} {
		b.run("RENAME", "BobBox", imapString(to))
		b.run("CREATE", "BobBox")
	}
	// alice's UIDs are 1 and 2 in her INBOX: bob asks for them and more.
	b.run("SELECT", "INBOX")
	b.run("UID FETCH", "1:1000", "(UID FLAGS ENVELOPE BODY.PEEK[] BODYSTRUCTURE)")
	b.run("FETCH", "1:*", "(BODY.PEEK[])")
	b.run("UID STORE", "1:1000", "+FLAGS", `(\Deleted)`)
	b.run("UID SEARCH", "TEXT", quoted(aliceBody))
	b.run("UID EXPUNGE", "1:1000")
	b.run("LIST", `""`, `"*"`)
	b.run("LIST", `""`, `"%"`)
	b.run("LIST", `"#"`, `"*"`)
	b.run("LIST", `"/"`, `"*"`)
	b.run("LIST", `"~"`, `"*"`)
	b.run("NAMESPACE")
	if st := b.run("NOOP"); !strings.HasPrefix(st, "OK") {
		t.Fatalf("bob's session is unusable: %s", st)
	}
	if len(b.closes) > 0 {
		t.Logf("the server closed bob's connection after: %v", b.closes)
	}
	seen := b.seen.String()
	for _, secret := range []string{aliceBox, aliceSubject, aliceBody} {
		// aliceBox only reaches bob's responses if bob created a name
		// holding it; the LIST of his own names is checked below.
		if secret == aliceBox {
			continue
		}
		if strings.Contains(seen, secret) {
			t.Errorf("bob saw %q:\n%s", secret, excerpt(seen, secret))
		}
	}

	// POP3: alice's address with bob's password, and hostile names.
	for _, user := range []string{alice, "ALICE@EXAMPLE.ORG", "../" + alice, alice + "\x00", bob + "/../" + alice} {
		if p, err := tryPOP3(t, w.srv.addr("pop3"), user, w.bobPass); err == nil {
			p.conn.Close()
			t.Errorf("POP3 USER %q with bob's password succeeded", user)
		}
	}
	p := dialPOP3(t, w.srv.addr("pop3"), bob, w.bobPass)
	for n := 1; n <= p.stat(); n++ {
		if body := strings.Join(p.multi("RETR %d", n), "\n"); strings.Contains(body, aliceBody) {
			t.Errorf("POP3 RETR %d as bob holds alice's message", n)
		}
	}
	p.must("QUIT")

	after := snapshotUser(t, imapAddr, alice, alicePass)
	if !slices.Equal(before.names, after.names) || before.digest != after.digest {
		t.Errorf("alice's state changed:\nbefore %v %v\nafter  %v %v", before.names, before.counts, after.names, after.counts)
	}
	bobState := snapshotUser(t, imapAddr, bob, w.bobPass)
	for _, n := range bobState.names {
		if n == aliceBox || strings.HasPrefix(n, aliceBox+"/") {
			t.Errorf("bob's mailbox list holds alice's mailbox %q", n)
		}
	}
	select {
	case <-w.srv.done:
		t.Fatalf("bucketmail exited: %v", w.srv.err)
	default:
	}
}

// excerpt returns the text around the first occurrence of sub.
func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	return s[max(0, i-300):min(len(s), i+300)]
}
