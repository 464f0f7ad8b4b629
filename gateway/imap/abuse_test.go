package imapgw

import (
	"bufio"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
)

func withLimits(lc abuse.Config) envOption {
	return func(c *Config) {
		lc.MaxDelay = time.Millisecond
		c.Limits = abuse.New(c.Store.(*sqlite.DB), lc, nil) // newEnv's store
	}
}

func TestLoginFailuresBlock(t *testing.T) {
	env := newEnv(t, withLimits(abuse.Config{AuthFailures: 3}))
	c, err := imapclient.DialTLS(env.tlsAddr, &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		if err := c.Login("alice@example.org", "wrong").Wait(); err == nil || imapCode(err) != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("wrong password: %v, want NO [AUTHENTICATIONFAILED]", err)
		}
	}
	// Blocked now, the right password included.
	err = c.Login("alice@example.org", testPassword).Wait()
	if imapCode(err) != imap.ResponseCodeUnavailable {
		t.Fatalf("login after 3 failures: %v, want NO [UNAVAILABLE]", err)
	}
	// The account stays blocked from elsewhere; bob from another IP is fine.
	if _, ok := env.srv.cfg.Limits.BeginAuth(t.Context(), "203.0.113.1", "alice@example.org"); ok {
		t.Error("account not blocked")
	}
	if a, ok := env.srv.cfg.Limits.BeginAuth(t.Context(), "203.0.113.1", "bob@example.org"); !ok {
		t.Error("innocent account blocked")
	} else {
		a.Abandon(t.Context())
	}
}

func TestConnectionRateBye(t *testing.T) {
	env := newEnv(t, withLimits(abuse.Config{ConnPerIPMinute: 1}))
	env.dial(t, "alice@example.org", nil)
	conn, err := tlsDial(env.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != connRefusal {
		t.Fatalf("greeting %q, %v; want %q", line, err, connRefusal)
	}
}
