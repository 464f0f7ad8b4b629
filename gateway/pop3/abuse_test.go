package pop3

import (
	"bufio"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
)

func withLimits(lc abuse.Config) envOptions {
	return envOptions{configure: func(c *Config) {
		lc.MaxDelay = time.Millisecond
		c.Limits = abuse.New(c.Store.(*sqlite.DB), lc, nil) // newEnv's store
	}}
}

func TestLoginFailuresBlock(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{AuthFailures: 3}))
	// A session may fail twice before the per-session limit (3) ends it.
	for _, n := range []int{2, 1} {
		c := e.dialTLS()
		for range n {
			c.cmd("USER "+testUser, "+OK")
			c.cmd("PASS wrong", "-ERR [AUTH]")
		}
	}
	c := e.dialTLS()
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS "+testPassword, "-ERR [AUTH] Too many failed logins")
	c.cmd("AUTH PLAIN "+plain("", testUser, testPassword), "-ERR [AUTH] Too many failed logins")
	if _, ok := e.srv.cfg.Limits.BeginAuth(t.Context(), "203.0.113.1", testUser); ok {
		t.Error("account not blocked from another IP")
	}
}

func TestConnectionRateRefused(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{ConnPerIPMinute: 1}))
	e.dial()
	conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{RootCAs: e.roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	assertRefused(t, conn)
	plainConn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer plainConn.Close()
	assertRefused(t, plainConn)
}

func assertRefused(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if want := "-ERR [SYS/TEMP] Service unavailable: too many connections from your address, try again later\r\n"; err != nil || line != want {
		t.Fatalf("greeting %q, %v; want %q", line, err, want)
	}
}
