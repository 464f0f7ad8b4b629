package imapgw

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// rawLines is a bare IMAP connection that reads whole lines.
type rawLines struct {
	t *testing.T
	w io.Writer
	r *bufio.Reader
}

func (c *rawLines) readUntil(prefix string) string {
	c.t.Helper()
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
}

func (c *rawLines) send(format string, args ...any) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.w, format+"\r\n", args...); err != nil {
		c.t.Fatal(err)
	}
}

// TestShutdownSaysBye: every session, idling or not yet logged in, gets
// an untagged BYE and is closed.
func TestShutdownSaysBye(t *testing.T) {
	env := newEnv(t)
	var clients []*rawLines
	for range 2 {
		conn, err := tlsDial(env.tlsAddr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		c := &rawLines{t: t, w: conn, r: bufio.NewReader(conn)}
		c.readUntil("* OK")
		clients = append(clients, c)
	}
	idler := clients[0]
	idler.send(`a LOGIN "alice@example.org" "%s"`, testPassword)
	idler.readUntil("a OK")
	idler.send("b SELECT INBOX")
	idler.readUntil("b OK")
	idler.send("c IDLE")
	idler.readUntil("+ ")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := env.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Shutdown took %s", took)
	}
	for i, c := range clients {
		if line := c.readUntil("* BYE"); !strings.Contains(line, "shutting down") {
			t.Errorf("client %d: %q", i, line)
		}
		if _, err := c.r.ReadString('\n'); err == nil {
			t.Errorf("client %d: connection still open after BYE", i)
		}
	}
}
