package imapgw

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// rawSession is a logged-in connection for raw commands.
type rawSession struct {
	conn *tls.Conn
	r    *bufio.Reader
}

func loginRaw(t *testing.T, env *testEnv) *rawSession {
	t.Helper()
	conn, err := tlsDial(env.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &rawSession{conn: conn, r: bufio.NewReader(conn)}
	if _, err := s.r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if _, err := s.do("l", `LOGIN alice@example.org "`+testPassword+`"`); err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends tag and line and returns the responses up to the tagged OK; an
// answer other than OK is an error.
func (s *rawSession) do(tag, line string) ([]string, error) {
	if _, err := s.conn.Write([]byte(tag + " " + line + "\r\n")); err != nil {
		return nil, err
	}
	var out []string
	for {
		l, err := s.r.ReadString('\n')
		if err != nil {
			return out, fmt.Errorf("%s: %w after %q", line, err, out)
		}
		l = strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				return out, fmt.Errorf("%s: %q", line, l)
			}
			return append(out, l), nil
		}
		out = append(out, l)
	}
}

var (
	statusMessages = regexp.MustCompile(`^\* STATUS INBOX \(MESSAGES (\d+)\)$`)
	existsLine     = regexp.MustCompile(`^\* (\d+) EXISTS$`)
)

// TestMultiappendAtomic: while one session appends messages five at a
// time with MULTIAPPEND (RFC 3502), a session polling STATUS and one
// selected on the mailbox (NOOP, EXISTS) never see part of a command's
// messages: every count they see is a multiple of five.
func TestMultiappendAtomic(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		const batch, rounds = 5, 25
		writer, status, selected := loginRaw(t, env), loginRaw(t, env), loginRaw(t, env)
		if _, err := selected.do("s", "SELECT INBOX"); err != nil {
			t.Fatal(err)
		}
		msg := "Subject: batch\r\n\r\nbody\r\n"
		var cmd strings.Builder
		for i := range batch {
			if i > 0 {
				cmd.WriteString(msg + " ")
			}
			fmt.Fprintf(&cmd, "(\\Seen) {%d+}\r\n", len(msg))
		}
		cmd.WriteString(msg)
		done := make(chan error, 1)
		go func() {
			for i := range rounds {
				if _, err := writer.do("w"+strconv.Itoa(i), "APPEND INBOX "+cmd.String()); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		check := func(what, n string) {
			t.Helper()
			if k, _ := strconv.Atoi(n); k%batch != 0 {
				t.Fatalf("%s saw %d messages: part of a MULTIAPPEND", what, k)
			}
		}
		polls := 0
		for finished := false; !finished; polls++ {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				finished = true
			default:
			}
			lines, err := status.do("t", "STATUS INBOX (MESSAGES)")
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				if m := statusMessages.FindStringSubmatch(l); m != nil {
					check("STATUS", m[1])
				}
			}
			if lines, err = selected.do("n", "NOOP"); err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				if m := existsLine.FindStringSubmatch(l); m != nil {
					check("EXISTS", m[1])
				}
			}
		}
		t.Logf("%d polls during %d MULTIAPPENDs of %d messages", polls, rounds, batch)
		mb, err := env.store.Mailbox(t.Context(), env.users["alice@example.org"].ID, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		if mb.Messages != batch*rounds {
			t.Fatalf("%d messages in INBOX, want %d", mb.Messages, batch*rounds)
		}
	})
}

// multiappendCmd is an APPEND of the given messages with LITERAL+, each
// with the flags of flags(i).
func multiappendCmd(msgs []string, flags func(i int) string) string {
	var b strings.Builder
	b.WriteString("APPEND INBOX")
	for i, m := range msgs {
		fmt.Fprintf(&b, " (%s) {%d+}\r\n%s", flags(i), len(m), m)
	}
	return b.String()
}

// TestMultiappendInsertFails: when the insert of a MULTIAPPEND fails (here
// its keywords would take the mailbox past store.MaxKeywords, NO [LIMIT]),
// nothing is inserted and the objects already written are handed to the
// collector: scheduled for deletion, not deleted at once, since an insert
// that failed uncertainly may have kept them.
func TestMultiappendInsertFails(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		s := loginRaw(t, env)
		half := store.MaxKeywords/2 + 1
		kws := func(i int) string {
			var k []string
			for j := range half {
				k = append(k, "k"+strconv.Itoa(i*half+j))
			}
			return strings.Join(k, " ")
		}
		msgs := []string{"Subject: a\r\n\r\na\r\n", "Subject: b\r\n\r\nb\r\n"}
		_, err := s.do("a1", multiappendCmd(msgs, kws))
		if err == nil || !strings.Contains(err.Error(), "a1 NO [LIMIT]") {
			t.Fatalf("MULTIAPPEND past the keyword limit: %v, want NO [LIMIT]", err)
		}
		mb, err := env.store.Mailbox(t.Context(), env.users["alice@example.org"].ID, "INBOX")
		if err != nil || mb.Messages != 0 {
			t.Fatalf("INBOX after the failed insert: %+v, %v", mb, err)
		}
		objects, err := env.blobs.List(t.Context(), "msg/", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		due, err := env.store.DueBlobDeletes(t.Context(), time.Now().Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(objects) != 2 || len(due) != 2 {
			t.Fatalf("objects %v, scheduled for deletion %v; want the 2 objects, both scheduled", objects, due)
		}
		for _, o := range objects {
			if !slices.Contains(due, o.Key) {
				t.Errorf("object %s not scheduled for deletion (scheduled: %v)", o.Key, due)
			}
		}
		if _, err := s.do("a2", "NOOP"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMultiappendTooMany: a MULTIAPPEND of more than maxAppendMessages is
// refused NO [LIMIT] at the message past the bound (invariant 9), with the
// rest of the command discarded, nothing stored and no object left; the
// session goes on. (The embedded deployment: the bound is the same in
// both, and a thousand objects are cheap on files.)
func TestMultiappendTooMany(t *testing.T) {
	env := newEnv(t)
	s := loginRaw(t, env)
	msgs := make([]string, maxAppendMessages+2)
	for i := range msgs {
		msgs[i] = "x\r\n"
	}
	_, err := s.do("a1", multiappendCmd(msgs, func(int) string { return "" }))
	if err == nil || !strings.Contains(err.Error(), "a1 NO [LIMIT]") {
		t.Fatalf("MULTIAPPEND of %d messages: %v, want NO [LIMIT]", len(msgs), err)
	}
	if _, err := s.do("a2", "NOOP"); err != nil {
		t.Fatal(err)
	}
	mb, err := env.store.Mailbox(t.Context(), env.users["alice@example.org"].ID, "INBOX")
	if err != nil || mb.Messages != 0 {
		t.Fatalf("INBOX after the refused MULTIAPPEND: %+v, %v", mb, err)
	}
	if objects, err := env.blobs.List(t.Context(), "msg/", "", 10); err != nil || len(objects) != 0 {
		t.Fatalf("objects left by the refused MULTIAPPEND: %v, %v", objects, err)
	}
	msgs = msgs[:maxAppendMessages]
	if _, err := s.do("a3", multiappendCmd(msgs, func(int) string { return "" })); err != nil {
		t.Fatalf("MULTIAPPEND of %d messages: %v", len(msgs), err)
	}
}
