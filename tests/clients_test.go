package e2e

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// clientTLS accepts the server's self-signed certificate.
func clientTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: "mx.test.example"}
}

// message builds an RFC 5322 message whose Subject and Message-ID identify it.
func message(from, to, subject, body string) string {
	id := strings.NewReplacer(" ", "-", "/", "-").Replace(subject)
	return "From: <" + from + ">\r\n" +
		"To: <" + to + ">\r\n" +
		"Subject: " + subject + "\r\n" +
		"Message-ID: <" + id + "@e2e.test>\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" + body + "\r\n"
}

// dialSMTP connects to addr and upgrades with STARTTLS.
func dialSMTP(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.DialStartTLS(addr, clientTLS())
	if err != nil {
		t.Fatalf("SMTP STARTTLS to %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send runs one transaction on c; the error is the server's reply, if any.
func send(c *smtp.Client, from string, to []string, msg string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			_ = c.Reset()
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	return w.Close()
}

// mustSend sends msg over a fresh STARTTLS connection and fails on any error.
func mustSend(t *testing.T, addr, from string, to []string, msg string) {
	t.Helper()
	c := dialSMTP(t, addr)
	if err := send(c, from, to, msg); err != nil {
		t.Fatalf("sending to %v: %v", to, err)
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
}

// smtpCode is the reply code of err, or 0 when it is not an SMTP reply.
func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// dialIMAP connects with STARTTLS and logs in.
func dialIMAP(t *testing.T, addr, user, pass string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: clientTLS(), UnilateralDataHandler: h})
	if err != nil {
		t.Fatalf("IMAP STARTTLS to %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("IMAP LOGIN %s: %v", user, err)
	}
	return c
}

// mailMessage is one message as IMAP lists it.
type mailMessage struct {
	UID     imap.UID
	Subject string
	Flags   []imap.Flag
}

// listMailbox selects mailbox and returns its messages (FETCH 1:*; Stop 0 is "*") (read from the index:
// UID, FLAGS, ENVELOPE).
func listMailbox(t *testing.T, c *imapclient.Client, mailbox string) []mailMessage {
	t.Helper()
	sel, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatalf("SELECT %s: %v", mailbox, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("FETCH 1:* in %s: %v", mailbox, err)
	}
	var out []mailMessage
	for _, m := range msgs {
		mm := mailMessage{UID: m.UID, Flags: m.Flags}
		if m.Envelope != nil {
			mm.Subject = m.Envelope.Subject
		}
		out = append(out, mm)
	}
	return out
}

func subjects(msgs []mailMessage) []string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Subject)
	}
	return s
}

// fetchBody returns the full message with the given UID.
func fetchBody(t *testing.T, c *imapclient.Client, uid imap.UID) string {
	t.Helper()
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatalf("UID FETCH %d BODY.PEEK[]: %v", uid, err)
	}
	if len(msgs) != 1 {
		t.Fatalf("UID FETCH %d: %d messages", uid, len(msgs))
	}
	return string(msgs[0].FindBodySection(section))
}

// eventually polls cond every 50ms until it is true or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s; last state: %s", timeout, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pop3Client is a minimal POP3 client (RFC 1939, STLS from RFC 2595),
// written here so the test depends on no POP3 library.
type pop3Client struct {
	t    *testing.T
	conn net.Conn
	text *textproto.Conn
}

// dialPOP3 connects, upgrades with STLS and logs in with USER/PASS.
func dialPOP3(t *testing.T, addr, user, pass string) *pop3Client {
	t.Helper()
	p, err := tryPOP3(t, addr, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tryPOP3(t *testing.T, addr, user, pass string) (*pop3Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	p := &pop3Client{t: t, conn: conn, text: textproto.NewConn(conn)}
	t.Cleanup(func() { p.conn.Close() })
	if _, err := p.reply(); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if _, err := p.cmd("STLS"); err != nil {
		return nil, err
	}
	tc := tls.Client(conn, clientTLS())
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("STLS handshake: %w", err)
	}
	p.conn, p.text = tc, textproto.NewConn(tc)
	_ = tc.SetDeadline(time.Now().Add(time.Minute))
	if _, err := p.cmd("USER %s", user); err != nil {
		return nil, err
	}
	if _, err := p.cmd("PASS %s", pass); err != nil {
		return nil, err
	}
	return p, nil
}

// reply reads a status line: "+OK text" or an error for "-ERR text".
func (p *pop3Client) reply() (string, error) {
	line, err := p.text.ReadLine()
	if err != nil {
		return "", err
	}
	if rest, ok := strings.CutPrefix(line, "+OK"); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", fmt.Errorf("pop3: %s", line)
}

func (p *pop3Client) cmd(format string, args ...any) (string, error) {
	if err := p.text.PrintfLine(format, args...); err != nil {
		return "", err
	}
	return p.reply()
}

// must runs a command that must succeed.
func (p *pop3Client) must(format string, args ...any) string {
	p.t.Helper()
	s, err := p.cmd(format, args...)
	if err != nil {
		p.t.Fatalf("POP3 %s: %v", strings.Fields(format)[0], err)
	}
	return s
}

// multi runs a command with a multi-line answer and returns its lines,
// dot-unstuffed (RFC 1939 section 3).
func (p *pop3Client) multi(format string, args ...any) []string {
	p.t.Helper()
	p.must(format, args...)
	r := bufio.NewReader(p.text.DotReader())
	var lines []string
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			lines = append(lines, strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			break
		}
	}
	return lines
}

// uidl returns message number → unique id.
func (p *pop3Client) uidl() map[string]string {
	p.t.Helper()
	m := map[string]string{}
	for _, line := range p.multi("UIDL") {
		f := strings.Fields(line)
		if len(f) != 2 {
			p.t.Fatalf("UIDL line %q", line)
		}
		m[f[0]] = f[1]
	}
	return m
}

// stat returns the message count of STAT.
func (p *pop3Client) stat() int {
	p.t.Helper()
	var n, size int
	if _, err := fmt.Sscanf(p.must("STAT"), "%d %d", &n, &size); err != nil {
		p.t.Fatalf("STAT: %v", err)
	}
	return n
}
