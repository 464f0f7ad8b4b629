package edge

import (
	"errors"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/abuse"
)

// TestAuthConcurrentGuessesLimited: 55 simultaneous wrong guesses from one
// IP, with a limit of 10, get exactly 10 passwords checked (535, counted
// in auth failures); the others are refused unchecked (454).
func TestAuthConcurrentGuessesLimited(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{AuthFailures: 10}))
	const guesses = 55
	clients := make([]*smtp.Client, guesses)
	for i := range clients {
		clients[i] = e.dial(Submission, true)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Auth(sasl.NewPlainClient("", alice, "wrong"))
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				t.Errorf("AUTH: %v", err)
				return
			}
			mu.Lock()
			codes[se.Code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[535] != 10 || codes[454] != guesses-10 {
		t.Errorf("replies %v; want 10 × 535 (checked) and %d × 454 (refused)", codes, guesses-10)
	}
	if got := counter(t, e.m.AuthFailures, Submission.String()); got != 10 {
		t.Errorf("passwords checked and failed = %v; want 10", got)
	}
	// Blocked: the right password is refused too, in any spelling.
	c := e.dial(Submission, true)
	wantReply(t, c.Auth(sasl.NewPlainClient("", "  ALICE@example.test. ", testPassword)), 454, smtp.EnhancedCode{4, 7, 0})
}

// TestAuthNameVariantsShareCounter: white space, case and a trailing dot
// do not make a new account: the failures of every spelling add up on the
// account's counter, and a variant logs in as the account.
func TestAuthNameVariantsShareCounter(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{AuthFailures: 4}))
	c := e.dial(Submission, true)
	wantReply(t, c.Auth(sasl.NewPlainClient("", "  "+alice, "wrong")), 535, smtp.EnhancedCode{5, 7, 8})
	wantReply(t, c.Auth(sasl.NewPlainClient("", "Alice@Example.TEST", "wrong")), 535, smtp.EnhancedCode{5, 7, 8})
	c = e.dial(Submission, true)
	wantReply(t, c.Auth(sasl.NewPlainClient("", alice+".\t", "wrong")), 535, smtp.EnhancedCode{5, 7, 8})
	wantReply(t, c.Auth(sasl.NewLoginClient(" "+alice+" ", "wrong")), 535, smtp.EnhancedCode{5, 7, 8})
	// The account is at its limit for any other IP.
	if _, ok := e.srv.cfg.Limits.BeginAuth(t.Context(), "203.0.113.9", alice); ok {
		t.Fatal("the spellings of alice did not add up on her counter")
	}
	// Bob, on a fresh env, logs in with a variant of his name.
	e = newEnv(t, withLimits(abuse.Config{AuthFailures: 4}))
	c = e.dial(Submission, true)
	if err := c.Auth(sasl.NewPlainClient("", " BOB@example.test.", testPassword)); err != nil {
		t.Fatalf("login with a variant of the name: %v", err)
	}
}
