package e2e

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// shutdownBound is the --shutdown-timeout of the graceful shutdown test.
const shutdownBound = 20 * time.Second

// rawIMAPS is a bare IMAP connection over implicit TLS, to see exactly
// what the server writes.
type rawIMAPS struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialIMAPS(t *testing.T, addr string) *rawIMAPS {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, clientTLS())
	if err != nil {
		t.Fatalf("IMAPS to %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	c := &rawIMAPS{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.expect("* OK")
	return c
}

// expect reads lines until one starts with prefix and returns it.
func (c *rawIMAPS) expect(prefix string) string {
	c.t.Helper()
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("IMAP: waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
}

func (c *rawIMAPS) send(format string, args ...any) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.conn, format+"\r\n", args...); err != nil {
		c.t.Fatalf("IMAP write: %v", err)
	}
}

// startTransaction opens an SMTP transaction to rcpt on the MX listener.
func startTransaction(t *testing.T, addr, rcpt string) *smtp.Client {
	t.Helper()
	c := dialSMTP(t, addr)
	if err := c.Mail(sender, nil); err != nil {
		t.Fatalf("MAIL: %v", err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		t.Fatalf("RCPT: %v", err)
	}
	return c
}

// TestGracefulShutdown sends SIGTERM to "bucketmail run" with sessions of
// every protocol open: IMAP (in IDLE) gets BYE, POP3 gets -ERR [SYS/TEMP],
// an idle SMTP connection gets 421, SMTP transactions open at the signal
// (one after RCPT, one in the middle of its DATA) finish with 250, the
// process exits 0 within --shutdown-timeout, and the two messages are
// delivered after a restart.
func TestGracefulShutdown(t *testing.T) {
	w := setupWorld(t, "--shutdown-timeout", shutdownBound.String())

	imapc := dialIMAPS(t, w.srv.addr("imaps"))
	imapc.send("a LOGIN %s %s", quotedIMAP(alice), quotedIMAP(alicePass))
	imapc.expect("a OK")
	imapc.send("b SELECT INBOX")
	imapc.expect("b OK")
	imapc.send("c IDLE")
	imapc.expect("+ ")

	pop := dialPOP3(t, w.srv.addr("pop3"), bob, w.bobPass)
	pop.must("STAT")

	idleSMTP := dialSMTP(t, w.srv.addr("smtp"))
	if err := idleSMTP.Noop(); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	afterRcpt := startTransaction(t, w.srv.addr("smtp"), bob)
	inData := startTransaction(t, w.srv.addr("smtp"), bob)
	dw, err := inData.Data()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	msg := message(sender, bob, "data at sigterm", strings.Repeat("line of the body\r\n", 200))
	half := len(msg) / 2
	if _, err := io.WriteString(dw, msg[:half]); err != nil {
		t.Fatal(err)
	}

	sigterm := time.Now()
	if err := w.srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	eventually(t, 10*time.Second, "the server logs its shutdown", func() (bool, string) {
		return w.srv.logContains(`"msg":"shutting down"`), ""
	})

	// The transaction in DATA finishes and is acknowledged.
	if _, err := io.WriteString(dw, msg[half:]); err != nil {
		t.Fatalf("rest of DATA after SIGTERM: %v", err)
	}
	if err := dw.Close(); err != nil {
		t.Fatalf("end of DATA after SIGTERM: %v, want 250", err)
	}
	// The one after RCPT too.
	if err := sendData(afterRcpt, message(sender, bob, "rcpt at sigterm", "body")); err != nil {
		t.Fatalf("DATA after SIGTERM: %v, want 250", err)
	}

	// IMAP: an untagged BYE, then the connection ends.
	bye := imapc.expect("* BYE")
	t.Logf("IMAP: %s", strings.TrimSpace(bye))
	// POP3: -ERR [SYS/TEMP] without a command.
	line, err := pop.text.ReadLine()
	if err != nil || !strings.HasPrefix(line, "-ERR [SYS/TEMP]") {
		t.Errorf("POP3 at shutdown: %q, %v; want -ERR [SYS/TEMP] ...", line, err)
	}
	// SMTP without a transaction: 421 (RFC 5321 section 3.8).
	if err := idleSMTP.Noop(); smtpCode(err) != 421 {
		t.Errorf("idle SMTP connection at shutdown: %v, want 421", err)
	}

	select {
	case <-w.srv.done:
	case <-time.After(shutdownBound + 5*time.Second):
		t.Fatalf("no exit %s after SIGTERM (bound %s)\n%s", time.Since(sigterm), shutdownBound, w.srv.logTail(50))
	}
	took := time.Since(sigterm)
	if w.srv.err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", w.srv.err, w.srv.logTail(50))
	}
	if took > shutdownBound {
		t.Errorf("shutdown took %s, more than the bound %s", took, shutdownBound)
	}
	t.Logf("exited 0 %s after SIGTERM", took.Round(time.Millisecond))

	w.start(t)
	w.waitSubjects(t, bob, w.bobPass, "INBOX", "data at sigterm", "rcpt at sigterm")
}

// sendData sends DATA with msg on a client whose recipients are given.
func sendData(c *smtp.Client, msg string) error {
	dw, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(dw, msg); err != nil {
		return err
	}
	return dw.Close()
}

// quotedIMAP is s as an IMAP quoted string.
func quotedIMAP(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
