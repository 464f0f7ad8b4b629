package imapgw

import (
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/bucketmail/bucketmail/internal/abuse"
)

// dialTLS connects over implicit TLS without logging in.
func (env *testEnv) dialTLS(t *testing.T) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(env.tlsAddr, &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLoginConcurrentGuessesLimited: 55 simultaneous wrong LOGINs from one
// IP, with a limit of 10, get exactly 10 passwords checked; the others are
// refused unchecked with NO [UNAVAILABLE], and so is the right password
// afterwards, in any spelling of the name.
func TestLoginConcurrentGuessesLimited(t *testing.T) {
	env := newEnv(t, withLimits(abuse.Config{AuthFailures: 10}))
	const guesses = 55
	clients := make([]*imapclient.Client, guesses)
	for i := range clients {
		clients[i] = env.dialTLS(t)
	}
	var mu sync.Mutex
	codes := map[imap.ResponseCode]int{}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := imapCode(c.Login("alice@example.org", "wrong").Wait())
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[imap.ResponseCodeAuthenticationFailed] != 10 || codes[imap.ResponseCodeUnavailable] != guesses-10 {
		t.Errorf("responses %v; want 10 AUTHENTICATIONFAILED and %d UNAVAILABLE", codes, guesses-10)
	}
	if got := metricValue(t, env.metrics.AuthFailures.WithLabelValues(protocol)); got != 10 {
		t.Errorf("passwords checked and failed = %v; want 10", got)
	}
	c := env.dialTLS(t)
	err := c.Authenticate(sasl.NewPlainClient("", " Alice@Example.ORG. ", testPassword))
	if imapCode(err) != imap.ResponseCodeUnavailable {
		t.Fatalf("AUTHENTICATE with the right password when blocked: %v, want NO [UNAVAILABLE]", err)
	}
}

// TestLoginNameVariantsShareCounter: the failures of LOGIN and
// AUTHENTICATE with spellings of one name add up on the account's counter,
// and a spelling logs in as the account.
func TestLoginNameVariantsShareCounter(t *testing.T) {
	env := newEnv(t, withLimits(abuse.Config{AuthFailures: 3}))
	c := env.dialTLS(t)
	for _, name := range []string{"  alice@example.org", "ALICE@example.org\t"} {
		if err := c.Login(name, "wrong").Wait(); imapCode(err) != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("LOGIN %q: %v, want NO [AUTHENTICATIONFAILED]", name, err)
		}
	}
	err := c.Authenticate(sasl.NewPlainClient("", "alice@example.org.", "wrong"))
	if imapCode(err) != imap.ResponseCodeAuthenticationFailed {
		t.Fatalf("AUTHENTICATE: %v, want NO [AUTHENTICATIONFAILED]", err)
	}
	if _, ok := env.srv.cfg.Limits.BeginAuth(t.Context(), "203.0.113.1", "alice@example.org"); ok {
		t.Fatal("the spellings of alice did not add up on her counter")
	}
	// The IP is blocked now too: bob logs in on a fresh server.
	env = newEnv(t, withLimits(abuse.Config{AuthFailures: 3}))
	if err := env.dialTLS(t).Login(" BOB@example.org. ", testPassword).Wait(); err != nil {
		t.Fatalf("LOGIN with a spelling of bob: %v", err)
	}
}
