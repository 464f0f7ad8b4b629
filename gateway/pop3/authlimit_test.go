package pop3

import (
	"encoding/json"
	"net"
	"os/exec"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/abuse"
)

// poplibGuessScript makes n simultaneous USER/PASS logins with Python's
// poplib over implicit TLS and prints the answers to PASS, as JSON.
const poplibGuessScript = `
import json, poplib, ssl, sys, threading
port, user, password, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conns = [poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=60) for _ in range(n)]
for p in conns:
    p.user(user)
answers, lock, start = [], threading.Lock(), threading.Barrier(n)
def guess(p):
    start.wait()
    try:
        a = p.pass_(password).decode()
    except poplib.error_proto as e:
        a = e.args[0].decode()
    with lock:
        answers.append(a)
threads = [threading.Thread(target=guess, args=(p,)) for p in conns]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(answers))
`

// TestPoplibConcurrentGuessesLimited: 55 simultaneous wrong passwords
// from one IP, with a limit of 10, get exactly 10 checked; the others are
// refused unchecked.
func TestPoplibConcurrentGuessesLimited(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{AuthFailures: 10}))
	_, port, _ := net.SplitHostPort(e.tlsAddr)
	out, err := exec.Command("python3", "-c", poplibGuessScript, port, testUser, "wrong", "55").Output()
	if err != nil {
		t.Fatalf("python3 poplib: %v", err)
	}
	var answers []string
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range answers {
		count[a]++
	}
	failed, blocked := "-ERR [AUTH] Authentication failed", "-ERR [AUTH] Too many failed logins, try again later"
	if count[failed] != 10 || count[blocked] != 45 {
		t.Errorf("answers %v; want 10 × %q and 45 × %q", count, failed, blocked)
	}
	var m dto.Metric
	if err := e.metrics.AuthFailures.WithLabelValues(protocol).Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 10 {
		t.Errorf("passwords checked and failed = %v; want 10", got)
	}
	// Blocked: the right password is refused too, in any spelling.
	c := e.dialTLS()
	c.cmd("USER  ALICE@example.org.", "+OK")
	c.cmd("PASS "+testPassword, "-ERR [AUTH] Too many failed logins")
}

// TestLoginNameVariantsShareCounter: USER/PASS and AUTH PLAIN with
// spellings of one name add up on the account's counter, and a spelling
// logs in as the account.
func TestLoginNameVariantsShareCounter(t *testing.T) {
	e := newEnv(t, withLimits(abuse.Config{AuthFailures: 3}))
	c := e.dialTLS()
	c.cmd("USER   "+testUser+"  ", "+OK")
	c.cmd("PASS wrong", "-ERR [AUTH] Authentication failed")
	c.cmd("USER Alice@Example.ORG", "+OK")
	c.cmd("PASS wrong", "-ERR [AUTH] Authentication failed")
	c = e.dialTLS()
	c.cmd("AUTH PLAIN "+plain("", " "+testUser+".", "wrong"), "-ERR [AUTH] Authentication failed")
	if _, ok := e.srv.cfg.Limits.BeginAuth(t.Context(), "203.0.113.1", testUser); ok {
		t.Fatal("the spellings of alice did not add up on her counter")
	}
	// The IP is blocked now too: a spelling logs in on a fresh server.
	e = newEnv(t, withLimits(abuse.Config{AuthFailures: 3}))
	c = e.dialTLS()
	c.cmd("USER ALICE@example.org.", "+OK")
	c.cmd("PASS "+testPassword, "+OK")
}
