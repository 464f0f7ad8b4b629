package pop3

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestShutdownSaysErr: Shutdown answers a session waiting for a command
// (plain and TLS) with -ERR [SYS/TEMP], does not apply its deletions, and
// stops accepting.
func TestShutdownSaysErr(t *testing.T) {
	e := newEnv(t, envOptions{insecureAuth: true})
	e.deliver("INBOX", "", "Subject: keep\r\n\r\nbody\r\n")
	c := e.dial()
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS "+testPassword, "+OK")
	c.cmd("DELE 1", "+OK")
	tc := e.dialTLS() // not logged in

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Shutdown took %s with idle sessions", took)
	}
	c.expectLine("-ERR [SYS/TEMP] server shutting down")
	tc.expectLine("-ERR [SYS/TEMP] server shutting down")
	if n := len(e.inbox()); n != 1 {
		t.Errorf("INBOX holds %d messages after shutdown, want 1 (DELE not applied)", n)
	}
	if conn, err := net.DialTimeout("tcp", e.addr, time.Second); err == nil {
		conn.Close()
		t.Error("listener still accepts after Shutdown")
	}
}
