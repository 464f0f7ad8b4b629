package pop3

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

const (
	prefix1 = "Return-Path: <bob@example.net>\r\nDelivered-To: alice@example.org\r\n"
	body1   = "Received: from x\r\nSubject: one\r\n\r\nHello\r\n"
	// body2 has lines that need dot-stuffing, and one line that is only a dot.
	body2 = "Subject: dots\r\n\r\n.\r\n..two\r\n.three\r\nfour.\r\n.\r\n"
)

func TestCAPABeforeAndAfterSTLS(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.dial()
	caps := c.capa()
	if !hasAll(caps, "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS", "IMPLEMENTATION bucketmail") {
		t.Fatalf("CAPA before TLS = %q", caps)
	}
	if !hasNone(caps, "USER", "SASL PLAIN") {
		t.Fatalf("CAPA before TLS offers login in the clear: %q", caps)
	}
	c.stls()
	caps = c.capa()
	if !hasAll(caps, "TOP", "UIDL", "USER", "SASL PLAIN", "RESP-CODES", "PIPELINING") || !hasNone(caps, "STLS") {
		t.Fatalf("CAPA after STLS = %q", caps)
	}
	c.cmd("STLS", "-ERR")
	c.quit("+OK")
}

func TestCAPAInsecureAuthAllowed(t *testing.T) {
	e := newEnv(t, envOptions{insecureAuth: true})
	c := e.dial()
	if caps := c.capa(); !hasAll(caps, "USER", "SASL PLAIN", "STLS") {
		t.Fatalf("CAPA = %q", caps)
	}
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS "+testPassword, "+OK")
	if caps := c.capa(); !hasNone(caps, "USER", "SASL PLAIN", "STLS") {
		t.Fatalf("CAPA in TRANSACTION = %q", caps)
	}
}

func TestLoginRefusedBeforeTLS(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.dial()
	c.cmd("USER "+testUser, "-ERR [AUTH] ")
	c.cmd("PASS "+testPassword, "-ERR [AUTH] ")
	c.cmd("AUTH PLAIN "+plain("", testUser, testPassword), "-ERR [AUTH] ")
	c.cmd("STAT", "-ERR")
	c.stls()
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS "+testPassword, "+OK Logged in, maildrop has 0 messages (0 octets)")
	c.quit("+OK")
}

func TestImplicitTLS(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.dialTLS()
	if caps := c.capa(); !hasAll(caps, "USER", "SASL PLAIN") || !hasNone(caps, "STLS") {
		t.Fatalf("CAPA on implicit TLS = %q", caps)
	}
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS "+testPassword, "+OK")
	c.quit("+OK")
}

func TestAuthPlain(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body1)

	t.Run("initial response", func(t *testing.T) {
		c := e.dial()
		c.stls()
		c.cmd("AUTH PLAIN "+plain("", testUser, testPassword), "+OK Logged in, maildrop has 1 messages")
		c.quit("+OK")
	})
	t.Run("continuation", func(t *testing.T) {
		c := e.dial()
		c.stls()
		c.cmd("AUTH PLAIN", "+ ")
		c.cmd(plain(testUser, testUser, testPassword), "+OK Logged in")
		c.quit("+OK")
	})
	t.Run("cancel", func(t *testing.T) {
		c := e.dial()
		c.stls()
		c.cmd("AUTH PLAIN", "+ ")
		c.cmd("*", "-ERR")
		c.cmd("STAT", "-ERR")
		c.cmd("AUTH PLAIN =", "-ERR")
		c.cmd("AUTH PLAIN "+plain("bob@example.org", testUser, testPassword), "-ERR")
		c.cmd("AUTH CRAM-MD5", "-ERR")
		c.cmd("AUTH", "+OK")
		if got := c.lines(); !slices.Equal(got, []string{"PLAIN"}) {
			t.Fatalf("AUTH list = %q", got)
		}
		c.quit("+OK")
	})
}

func TestWrongPassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.dial()
	c.stls()
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS wrong", "-ERR [AUTH] Authentication failed")
	c.cmd("AUTH PLAIN "+plain("", "nobody@example.org", testPassword), "-ERR [AUTH] Authentication failed")
	if got := authFailures(t, e.metrics); got != 2 {
		t.Fatalf("AuthFailures = %v, want 2", got)
	}
	// The third failure ends the session.
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS wrong again", "-ERR [AUTH] Authentication failed")
	c.expectPrefix("", "-ERR")
	if _, err := c.tp.ReadLine(); err == nil {
		t.Fatal("session still open after 3 failures")
	}
}

func TestStorageFailureIsTemporary(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.dial()
	c.stls()
	e.db.Close()
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS "+testPassword, "-ERR [SYS/TEMP] ")
}

// TestListingReadsNoBlob: STAT, LIST and UIDL agree with the index and
// never read the blob store (invariant 5).
func TestListingReadsNoBlob(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body1)
	e.deliver(store.Inbox, "", body2)
	e.deliver(store.Inbox, prefix1, body2)
	msgs := e.inbox()
	mb, err := e.db.Mailbox(context.Background(), e.user.ID, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	var wantList, wantUIDL []string
	for i, m := range msgs {
		total += m.Size
		wantList = append(wantList, fmt.Sprintf("%d %d", i+1, m.Size))
		wantUIDL = append(wantUIDL, fmt.Sprintf("%d %d.%d", i+1, mb.UIDValidity, m.UID))
	}
	if total != int64(2*len(prefix1)+len(body1)+2*len(body2)) {
		t.Fatalf("index sizes add up to %d", total)
	}

	c := e.dial()
	c.login()
	c.cmd("STAT", fmt.Sprintf("+OK 3 %d", total))
	c.cmd("LIST", "+OK")
	if got := c.lines(); !slices.Equal(got, wantList) {
		t.Fatalf("LIST = %q, want %q", got, wantList)
	}
	c.cmd("UIDL", "+OK")
	if got := c.lines(); !slices.Equal(got, wantUIDL) {
		t.Fatalf("UIDL = %q, want %q", got, wantUIDL)
	}
	c.cmd("LIST 2", "+OK "+wantList[1])
	c.cmd("UIDL 3", "+OK "+wantUIDL[2])
	c.cmd("LIST 4", "-ERR")
	c.cmd("LIST 0", "-ERR")
	c.cmd("UIDL x", "-ERR")
	if n := e.blobs.Gets(); n != 0 {
		t.Fatalf("listing read %d blobs", n)
	}
	c.cmd("RETR 1", "+OK")
	c.body()
	if n := e.blobs.Gets(); n != 1 {
		t.Fatalf("RETR read %d blobs, want 1", n)
	}
	c.quit("+OK")
}

func TestRETRDotStuffing(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body2)
	e.deliver(store.Inbox, "", body1)
	c := e.dial()
	c.login()
	c.cmd("RETR 1", fmt.Sprintf("+OK %d octets", len(prefix1+body2)))
	if got := string(c.body()); got != prefix1+body2 {
		t.Fatalf("RETR 1 = %q, want %q", got, prefix1+body2)
	}
	c.cmd("RETR 2", "+OK")
	if got := string(c.body()); got != body1 {
		t.Fatalf("RETR 2 = %q, want %q", got, body1)
	}
	c.cmd("RETR 3", "-ERR")
	c.cmd("RETR", "-ERR")
	c.quit("+OK")
}

func TestRETRNormalizesLineEnds(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, "Subject: lf\n\n.dot\nno final newline")
	c := e.dial()
	c.login()
	c.cmd("RETR 1", "+OK")
	want := prefix1 + "Subject: lf\r\n\r\n.dot\r\nno final newline\r\n"
	if got := string(c.body()); got != want {
		t.Fatalf("RETR = %q, want %q", got, want)
	}
}

func TestTOP(t *testing.T) {
	e := newEnv(t, envOptions{})
	body := "Subject: top\r\n\r\nline 1\r\n.line 2\r\nline 3\r\n"
	e.deliver(store.Inbox, prefix1, body)
	c := e.dial()
	c.login()
	c.cmd("TOP 1 0", "+OK")
	if got, want := string(c.body()), prefix1+"Subject: top\r\n\r\n"; got != want {
		t.Fatalf("TOP 1 0 = %q, want %q", got, want)
	}
	c.cmd("TOP 1 2", "+OK")
	if got, want := string(c.body()), prefix1+"Subject: top\r\n\r\nline 1\r\n.line 2\r\n"; got != want {
		t.Fatalf("TOP 1 2 = %q, want %q", got, want)
	}
	c.cmd("TOP 1 100", "+OK")
	if got := string(c.body()); got != prefix1+body {
		t.Fatalf("TOP 1 100 = %q", got)
	}
	c.cmd("TOP 1", "-ERR")
	c.cmd("TOP 1 -1", "-ERR")
	c.cmd("TOP 2 0", "-ERR")
	c.quit("+OK")
	// TOP does not count as retrieval: no \Seen.
	if flags := e.inbox()[0].Flags; slices.Contains(flags, store.FlagSeen) {
		t.Fatalf("flags after TOP = %q", flags)
	}
}

func TestDELEThenRSET(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body1)
	e.deliver(store.Inbox, prefix1, body2)
	c := e.dial()
	c.login()
	size1 := len(prefix1 + body1)
	size2 := len(prefix1 + body2)
	c.cmd("DELE 1", "+OK")
	c.cmd("DELE 1", "-ERR")
	c.cmd("RETR 1", "-ERR")
	c.cmd("LIST 1", "-ERR")
	c.cmd("STAT", fmt.Sprintf("+OK 1 %d", size2))
	c.cmd("LIST", "+OK")
	if got := c.lines(); !slices.Equal(got, []string{fmt.Sprintf("2 %d", size2)}) {
		t.Fatalf("LIST after DELE = %q", got)
	}
	c.cmd("RSET", fmt.Sprintf("+OK Maildrop has 2 messages (%d octets)", size1+size2))
	c.cmd("STAT", fmt.Sprintf("+OK 2 %d", size1+size2))
	c.quit("+OK " + testHost + " POP3 server signing off (0 messages deleted)")
	if n := len(e.inbox()); n != 2 {
		t.Fatalf("INBOX has %d messages, want 2", n)
	}
}

func TestDELEThenDroppedConnection(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, key := e.deliver(store.Inbox, prefix1, body1)
	c := e.dial()
	c.login()
	c.cmd("DELE 1", "+OK")
	c.cmd("RETR 1", "-ERR")
	c.conn.Close()

	// The next session sees the message once the server has noticed the
	// dropped connection and released the lock.
	c = e.dial()
	c.stls()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.cmd("USER "+testUser, "+OK")
		c.send("PASS " + testPassword)
		resp := c.readLine()
		if strings.HasPrefix(resp, "+OK") {
			break
		}
		if !strings.HasPrefix(resp, "-ERR [IN-USE]") || time.Now().After(deadline) {
			t.Fatalf("PASS: %q", resp)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.cmd("STAT", fmt.Sprintf("+OK 1 %d", len(prefix1+body1)))
	c.quit("+OK")
	if !e.blobExists(key) || len(e.inbox()) != 1 {
		t.Fatal("a dropped connection deleted the message")
	}
}

func TestDELEThenQUIT(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, key1 := e.deliver(store.Inbox, prefix1, body1)
	_, key2 := e.deliver(store.Inbox, prefix1, body2)
	_, key3 := e.deliver(store.Inbox, "", body1)
	// A copy of message 2's object in Sent keeps it referenced.
	e.file("Sent", key2, "", int64(len(body2)))

	c := e.dial()
	c.login()
	c.cmd("DELE 1", "+OK")
	c.cmd("DELE 2", "+OK")
	c.cmd("RETR 3", "+OK")
	c.body()
	c.quit("+OK " + testHost + " POP3 server signing off (2 messages deleted)")

	msgs := e.inbox()
	if len(msgs) != 1 || msgs[0].BlobKey != key3 {
		t.Fatalf("INBOX after QUIT = %+v", msgs)
	}
	if !slices.Contains(msgs[0].Flags, store.FlagSeen) {
		t.Fatalf("retrieved message has flags %q, want \\Seen", msgs[0].Flags)
	}
	// The collector (internal/reconcile) deletes orphans a delay later.
	due, err := e.db.DueBlobDeletes(context.Background(), time.Now().Add(24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(due, []string{key1}) {
		t.Fatalf("objects scheduled for deletion = %q, want only message 1's %q", due, key1)
	}
	if !e.blobExists(key2) {
		t.Fatal("object of message 2 deleted while Sent still refers to it")
	}
}

func TestUIDLStableAcrossSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body1)
	e.deliver(store.Inbox, prefix1, body2)
	uidl := func() []string {
		c := e.dial()
		c.login()
		c.cmd("UIDL", "+OK")
		ls := c.lines()
		c.cmd("DELE 1", "+OK")
		c.quit("+OK")
		var ids []string
		for _, l := range ls {
			_, id, _ := strings.Cut(l, " ")
			if id == "" || len(id) > 70 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
				t.Fatalf("bad unique id in %q", l)
			}
			ids = append(ids, id)
		}
		return ids
	}
	first := uidl()
	e.deliver(store.Inbox, "", body1)
	second := uidl()
	if len(first) != 2 || len(second) != 2 || first[1] != second[0] || second[1] == first[0] {
		t.Fatalf("UIDL of session 1 %q, of session 2 %q", first, second)
	}
}

func TestInUse(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body1)
	c1 := e.dial()
	c1.login()
	c2 := e.dial()
	c2.stls()
	c2.cmd("USER "+testUser, "+OK")
	c2.cmd("PASS "+testPassword, "-ERR [IN-USE] ")
	// Another user's maildrop is not locked.
	e.addUser("bob@example.org", "bobs password")
	c2.cmd("AUTH PLAIN "+plain("", "bob@example.org", "bobs password"), "+OK")
	c2.quit("+OK")
	c1.quit("+OK")
	c3 := e.dial()
	c3.login()
	c3.quit("+OK")
	waitNoSessions(t, e.metrics)
}

func TestSnapshotAtLogin(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body1)
	c := e.dial()
	c.login()
	e.deliver(store.Inbox, prefix1, body2)
	c.cmd("STAT", "+OK 1 ")
	c.cmd("RETR 2", "-ERR")
	c.quit("+OK")
}

// TestPipelining sends commands in one write and gets every response in order.
func TestPipelining(t *testing.T) {
	e := newEnv(t, envOptions{insecureAuth: true})
	e.deliver(store.Inbox, prefix1, body2)
	e.deliver(store.Inbox, "", body1)
	c := e.dial()
	greetingWrites := e.writes.Load()
	batch := "USER " + testUser + "\r\nPASS " + testPassword + "\r\nSTAT\r\nLIST\r\nRETR 1\r\nUIDL 2\r\nTOP 2 0\r\nDELE 2\r\nNOOP\r\nBOGUS\r\nQUIT\r\n"
	if _, err := c.conn.Write([]byte(batch)); err != nil {
		t.Fatal(err)
	}
	c.expectPrefix("USER", "+OK")
	c.expectPrefix("PASS", "+OK Logged in")
	c.expectPrefix("STAT", "+OK 2 ")
	c.expectPrefix("LIST", "+OK")
	if got := c.lines(); len(got) != 2 {
		t.Fatalf("LIST = %q", got)
	}
	c.expectPrefix("RETR", "+OK")
	if got := string(c.body()); got != prefix1+body2 {
		t.Fatalf("RETR = %q", got)
	}
	c.expectPrefix("UIDL", "+OK 2 ")
	c.expectPrefix("TOP", "+OK")
	if got := string(c.body()); got != "Received: from x\r\nSubject: one\r\n\r\n" {
		t.Fatalf("TOP = %q", got)
	}
	c.expectPrefix("DELE", "+OK")
	c.expectPrefix("NOOP", "+OK")
	c.expectPrefix("BOGUS", "-ERR")
	c.expectPrefix("QUIT", "+OK "+testHost+" POP3 server signing off (1 messages deleted)")
	// Responses were flushed when no command was waiting, not one by one
	// (11 commands, all answered in a few writes).
	if n := e.writes.Load() - greetingWrites; n > 3 {
		t.Fatalf("11 pipelined responses took %d writes", n)
	}
}

func TestBadCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.dial()
	c.cmd("STAT", "-ERR")
	c.cmd("XYZZY", "-ERR")
	c.cmd("USER "+strings.Repeat("a", 300), "-ERR")
	c.cmd("NOOP", "-ERR") // NOOP is a TRANSACTION command
	c.cmd("CAPA", "+OK")  // the session survived the long line
	c.lines()
	for range maxBadCommands - 5 {
		c.cmd("?", "-ERR")
	}
	c.cmd("?", "-ERR")
	c.expectPrefix("", "-ERR Too many")
	if _, err := c.tp.ReadLine(); err == nil {
		t.Fatal("session still open after too many bad commands")
	}
}

func TestServerClose(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body1)
	c := e.dial()
	c.login()
	c.cmd("DELE 1", "+OK")
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.tp.ReadLine(); err == nil {
		t.Fatal("session open after Close")
	}
	if len(e.inbox()) != 1 {
		t.Fatal("Close applied the deletions")
	}
	if _, err := net.DialTimeout("tcp", e.addr, time.Second); err == nil {
		t.Fatal("listener open after Close")
	}
}

// TestLargeMessage streams a message larger than every buffer.
func TestLargeMessage(t *testing.T) {
	e := newEnv(t, envOptions{})
	var b bytes.Buffer
	b.WriteString("Subject: big\r\n\r\n")
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, ".line %d %s\r\n", i, strings.Repeat("x", i%100))
	}
	e.deliver(store.Inbox, prefix1, b.String())
	c := e.dial()
	c.login()
	c.cmd("RETR 1", fmt.Sprintf("+OK %d octets", len(prefix1)+b.Len()))
	if got := c.body(); !bytes.Equal(got, append([]byte(prefix1), b.Bytes()...)) {
		t.Fatalf("RETR of %d bytes returned %d different bytes", len(prefix1)+b.Len(), len(got))
	}
	c.quit("+OK")
}
