package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// client is the test's side of a net.Pipe: it writes lines and checks
// the server's, as a transcript. Lines are written in order by one
// goroutine, so that a server answering before it read everything (as it
// does to a refused literal) does not block the test: a pipe has no buffer.
type client struct {
	t   *testing.T
	nc  net.Conn
	br  *bufio.Reader
	out chan string
}

func (c *client) send(s string) { c.out <- s + "\r\n" }

func (c *client) writeLoop() {
	for s := range c.out {
		if _, err := io.WriteString(c.nc, s); err != nil {
			return
		}
	}
}

// expect reads one line per pattern; a pattern ending in "*" matches any
// line with that prefix.
func (c *client) expect(patterns ...string) {
	c.t.Helper()
	for _, p := range patterns {
		line, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("want %q, read error %v", p, err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(line, pre) || line == p {
			continue
		}
		c.t.Fatalf("got  %q\nwant %q", line, p)
	}
}

// expectClosed reads to the end of the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	if line, err := c.br.ReadString('\n'); err != io.EOF {
		c.t.Fatalf("want the connection closed, got %q %v", line, err)
	}
}

// start serves one connection with cfg and returns the client's side.
func start(t *testing.T, ctx context.Context, cfg Config) (*client, <-chan struct{}) {
	srvConn, cliConn := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(cfg).Serve(ctx, srvConn)
	}()
	c := &client{t: t, nc: cliConn, br: bufio.NewReader(cliConn), out: make(chan string, 100)}
	go c.writeLoop()
	t.Cleanup(func() {
		close(c.out)
		cliConn.Close()
		<-done // no session outlives its client
	})
	return c, done
}

var errTooBig = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTooBig, Text: "Message too big"}

// testConfig has a mailbox of appended messages behind SELECT, FETCH,
// APPEND and CLOSE, and user joe with password secret.
func testConfig(appended *[]string) Config {
	return Config{
		Hostname: "test",
		Login: func(ctx context.Context, c *Conn, user, pass string) error {
			if user == "joe" && pass == "secret" {
				return nil
			}
			return errors.New("bad password")
		},
		CheckAppend: func(c *Conn, info wire.LiteralInfo) error {
			if info.Size > 100 {
				return errTooBig
			}
			return nil
		},
		Idle: func(ctx context.Context, c *Conn, stop <-chan struct{}) error {
			c.Writer().Start().Number(uint32(len(*appended) + 1)).Atom("EXISTS").End()
			if err := c.Writer().Flush(); err != nil {
				return err
			}
			<-stop
			return nil
		},
		Commands: map[string]Command{
			"SELECT": {[]State{Authenticated, Selected}, func(ctx context.Context, c *Conn, cmd *wire.Command) error {
				if _, err := wire.DecodeMailbox(cmd.Args.(*wire.Select).Mailbox, c.Enabled("UTF8=ACCEPT")); err != nil {
					return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Bad mailbox name"}
				}
				c.Writer().Start().Number(uint32(len(*appended))).Atom("EXISTS").End()
				c.SetState(Selected)
				c.SetOK("READ-WRITE", "SELECT completed")
				return nil
			}},
			"CLOSE": {[]State{Selected}, func(ctx context.Context, c *Conn, cmd *wire.Command) error {
				c.SetState(Authenticated)
				return nil
			}},
			"FETCH": {[]State{Selected}, func(ctx context.Context, c *Conn, cmd *wire.Command) error {
				for i := range *appended {
					f := c.Writer().Fetch(uint32(i + 1))
					f.UID(uint32(i + 1))
					f.End()
				}
				return nil
			}},
			"APPEND": {[]State{Authenticated, Selected}, func(ctx context.Context, c *Conn, cmd *wire.Command) error {
				var msgs []string
				for m := cmd.Args.(*wire.Append).Message; m != nil; {
					b, err := io.ReadAll(m)
					if err != nil {
						return err
					}
					msgs = append(msgs, string(b))
					if m, err = c.Reader().NextMessage(); err != nil {
						return err
					}
				}
				*appended = append(*appended, msgs...) // all or none (RFC 3502)
				return nil
			}},
		},
	}
}

// TestSession drives a whole session: states, dispatch, unknown and
// refused commands, literals, IDLE and LOGOUT.
func TestSession(t *testing.T) {
	var appended []string
	cfg := testConfig(&appended)
	var polls []string
	cfg.Poll = func(ctx context.Context, c *Conn, allowExpunge bool) error {
		polls = append(polls, fmt.Sprint(allowExpunge))
		return nil
	}
	c, _ := start(t, context.Background(), cfg)
	c.expect("* OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE SASL-IR AUTH=PLAIN] test IMAP ready")
	c.send("a1 CAPABILITY")
	c.expect("* CAPABILITY IMAP4rev2 *", "a1 OK CAPABILITY completed")
	c.send("a2 XYZZY")
	c.expect("a2 BAD Unknown command")
	c.send("a3 SELECT INBOX")
	c.expect("a3 BAD SELECT not allowed not authenticated")
	c.send("a4 APPEND INBOX {5}")
	c.expect("a4 BAD APPEND not allowed not authenticated") // and no "+"
	c.send("a5 LOGIN joe wrong")
	c.expect("a5 NO [AUTHENTICATIONFAILED] Invalid credentials")
	c.send("a6 LOGIN joe secret")
	c.expect("a6 OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE SASL-IR] Logged in")
	c.send("a7 FETCH 1 FLAGS")
	c.expect("a7 BAD FETCH not allowed authenticated")
	c.send("a8 APPEND INBOX {500}")
	c.expect("a8 NO [TOOBIG] Message too big") // before the client sends it
	c.send("a9 APPEND INBOX (\\Seen) {5}")
	c.expect("+ Ready")
	c.send("hello {3+}\r\nabc")
	c.expect("a9 OK APPEND completed")
	if strings.Join(appended, ",") != "hello,abc" {
		t.Fatalf("appended %q", appended)
	}
	c.send("b0 APPEND INBOX {1+}\r\nx {500+}\r\n" + strings.Repeat("y", 500))
	c.expect("b0 NO [TOOBIG] Message too big") // the second message: nothing stored
	if len(appended) != 2 {
		t.Fatalf("appended %q after a refused MULTIAPPEND", appended)
	}
	c.send("b1 SELECT &AGE-") // modified UTF-7 for "a", which must be sent as itself
	c.expect("b1 NO [CANNOT] Bad mailbox name")
	c.send("b1 SELECT INBOX")
	c.expect("* 2 EXISTS", "b1 OK [READ-WRITE] SELECT completed")
	c.send("b2 FETCH 1 (BOGUS {9+}\r\nb3 NOOP\r\n)")
	c.expect("b2 BAD Syntax error: unknown fetch attribute BOGUS") // the literal is not a command
	c.send("b4 UID FETCH 1:* (UID)")
	c.expect("* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "b4 OK UID FETCH completed")
	c.send("b4 FETCH 1:* (UID)")
	c.expect("* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "b4 OK FETCH completed")
	c.send("b5 IDLE")
	c.expect("+ idling", "* 3 EXISTS")
	c.send("DONE")
	c.expect("b5 OK IDLE completed")
	c.send("b6 ENABLE UTF8=ACCEPT")
	c.expect("b6 BAD ENABLE not allowed selected")
	c.send("b7 AUTHENTICATE PLAIN")
	c.expect("b7 BAD AUTHENTICATE not allowed selected")
	c.send("b8 CLOSE")
	c.expect("b8 OK CLOSE completed")
	c.send("b9 FETCH 1 FLAGS")
	c.expect("b9 BAD FETCH not allowed authenticated")
	c.send("c0 ENABLE UTF8=ACCEPT X-UNKNOWN")
	c.expect("* ENABLED UTF8=ACCEPT", "c0 OK ENABLE completed")
	c.send("c0 SELECT Entw&APw-rfe") // & is plain after UTF8=ACCEPT: any name goes
	c.expect("* 2 EXISTS", "c0 OK [READ-WRITE] SELECT completed")
	c.send("c0 CLOSE")
	c.expect("c0 OK CLOSE completed")
	c.send("c1 NAMESPACE")
	c.expect("c1 BAD Command not supported")
	c.send("c2 LOGOUT")
	c.expect("* BYE Logging out", "c2 OK LOGOUT completed")
	c.expectClosed()
	// SELECT, UID FETCH, FETCH, IDLE, the second SELECT: the FETCH of b2
	// did not parse, and CLOSE left the selected state.
	if got := strings.Join(polls, " "); got != "true true false true true" {
		t.Errorf("polls with allowExpunge %q", got)
	}
}

// TestAuthenticate: AUTHENTICATE PLAIN with a continuation, with an
// initial response (SASL-IR), and cancelled.
func TestAuthenticate(t *testing.T) {
	var appended []string
	c, _ := start(t, context.Background(), testConfig(&appended))
	c.expect("* OK *")
	c.send("a1 AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("*")
	c.expect("a1 BAD Authentication cancelled")
	c.send("a2 AUTHENTICATE PLAIN AGpvZQB3cm9uZw==") // joe, wrong
	c.expect("a2 NO [AUTHENTICATIONFAILED] Invalid credentials")
	c.send("a3 AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("AGpvZQBzZWNyZXQ=") // joe, secret
	c.expect("a3 OK [CAPABILITY *")
}

// TestPreLoginTimeout: a client that says nothing is logged out with a BYE.
func TestPreLoginTimeout(t *testing.T) {
	cfg := testConfig(new([]string))
	cfg.Timeouts.PreLogin = time.Millisecond
	c, _ := start(t, context.Background(), cfg)
	c.expect("* OK *")
	c.expect("* BYE Autologout; idle for too long")
	c.expectClosed()
}

// TestFatal: a line over the cap ends the session with a BYE.
func TestFatal(t *testing.T) {
	cfg := testConfig(new([]string))
	cfg.Limits.Line = 100
	c, _ := start(t, context.Background(), cfg)
	c.expect("* OK *")
	c.send("a LOGIN " + strings.Repeat("x", 200))
	c.expect("* BYE [TOOBIG] line too long")
	c.expectClosed()
}

// TestShutdown: a cancelled context ends a waiting session with a BYE.
func TestShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, done := start(t, ctx, testConfig(new([]string)))
	c.expect("* OK *")
	cancel()
	c.expect("* BYE Server shutting down")
	c.expectClosed()
	<-done
}

// TestTimeoutMinimum: the authenticated and IDLE timeouts cannot go below
// RFC 9051 section 5.4's 30 minutes.
func TestTimeoutMinimum(t *testing.T) {
	got := New(Config{Timeouts: Timeouts{Authenticated: time.Minute, Idle: 0}}).Timeouts()
	if got.Authenticated != 30*time.Minute || got.Idle != 30*time.Minute || got.PreLogin != DefaultPreLoginTimeout {
		t.Errorf("timeouts %+v", got)
	}
	got = New(Config{Timeouts: Timeouts{Authenticated: time.Hour, Idle: 2 * time.Hour, PreLogin: time.Second}}).Timeouts()
	if got.Authenticated != time.Hour || got.Idle != 2*time.Hour || got.PreLogin != time.Second {
		t.Errorf("timeouts %+v", got)
	}
}

// TestIdleShutdown: a shutdown ends an IDLE with a BYE, and the Idle hook
// is stopped.
func TestIdleShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := testConfig(new([]string))
	hookDone := make(chan struct{})
	idle := cfg.Idle
	cfg.Idle = func(ctx context.Context, c *Conn, stop <-chan struct{}) error {
		defer close(hookDone)
		return idle(ctx, c, stop)
	}
	c, done := start(t, ctx, cfg)
	c.expect("* OK *")
	c.send("a LOGIN joe secret")
	c.expect("a OK *")
	c.send("b IDLE")
	c.expect("+ idling", "* 1 EXISTS")
	cancel()
	c.expect("* BYE Server shutting down")
	c.expectClosed()
	<-done
	<-hookDone
}

// TestLongLineOutsideCommand: a SASL response or an IDLE line over the
// line cap ends the session with a BYE, not an internal error.
func TestLongLineOutsideCommand(t *testing.T) {
	for _, tt := range []struct{ name, login, start string }{
		{"sasl", "", "a AUTHENTICATE PLAIN"},
		{"idle", "x LOGIN joe secret", "a IDLE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(new([]string))
			cfg.Limits.Line = 100
			cfg.Idle = nil
			c, _ := start(t, context.Background(), cfg)
			c.expect("* OK *")
			if tt.login != "" {
				c.send(tt.login)
				c.expect("x OK *")
			}
			c.send(tt.start)
			c.expect("+ *")
			c.send(strings.Repeat("x", 200))
			c.expect("* BYE [TOOBIG] line too long")
			c.expectClosed()
		})
	}
}

// TestAppendSyntaxAfterMessage: what follows an APPEND message and does
// not parse, as Reader.NextMessage returns it to the handler, is BAD for
// the command, not a server error.
func TestAppendSyntaxAfterMessage(t *testing.T) {
	var appended []string
	cfg := testConfig(&appended)
	var logged errorCounter
	cfg.Log = slog.New(&logged)
	c, _ := start(t, context.Background(), cfg)
	c.expect("* OK *")
	c.send("a LOGIN joe secret")
	c.expect("a OK *")
	c.send("b APPEND INBOX {0+}\r\nxyz")
	c.expect("b BAD Syntax error: *")
	c.send("c NOOP")
	c.expect("c OK NOOP completed")
	if len(appended) != 0 || logged.n.Load() != 0 {
		t.Errorf("appended %q, %d ERROR log records (%q)", appended, logged.n.Load(), logged.last)
	}
}
