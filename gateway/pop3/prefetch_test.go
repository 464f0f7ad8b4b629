package pop3

import (
	"fmt"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// TestRETRReadAhead: a client downloading the maildrop in order gets every
// message intact, each object is read once (the read-ahead is used, not
// read again), a RETR out of order and a TOP still work, and a deleted
// message is neither sent nor read ahead after its DELE.
func TestRETRReadAhead(t *testing.T) {
	e := newEnv(t, envOptions{})
	const n = 12
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("Subject: m%d\r\n\r\nbody of message %d\r\n", i+1, i+1)
		e.deliver(store.Inbox, "", bodies[i])
	}
	c := e.dial()
	c.login()
	before := e.blobs.Gets()
	c.cmd("DELE 7", "+OK")
	for i := 1; i <= n; i++ {
		if i == 7 {
			c.cmd("RETR 7", "-ERR")
			continue
		}
		c.cmd(fmt.Sprintf("RETR %d", i), "+OK")
		if got := string(c.body()); got != bodies[i-1] {
			t.Fatalf("RETR %d = %q, want %q", i, got, bodies[i-1])
		}
	}
	if got := e.blobs.Gets() - before; got != n-1 {
		t.Errorf("%d object reads for %d messages, want %d", got, n-1, n-1)
	}
	c.cmd("RETR 3", "+OK") // back: read again, not from the read-ahead
	if got := string(c.body()); got != bodies[2] {
		t.Fatalf("second RETR 3 = %q", got)
	}
	c.cmd("TOP 5 0", "+OK")
	if got := string(c.body()); got != "Subject: m5\r\n\r\n" {
		t.Fatalf("TOP 5 0 = %q", got)
	}
	c.quit("+OK")
}
