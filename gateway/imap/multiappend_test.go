package imapgw

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
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
