package worker

import (
	"testing"
	"time"
)

// TestSieveActiveCached: a worker reuses a recipient's active script for
// SieveTTL, so a newly activated script takes effect once that delay has
// passed; with a negative TTL it takes effect at the next message.
func TestSieveActiveCached(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["fileinto","mailbox"]; fileinto :create "A";`)
	w.cfg.SieveTTL = time.Hour
	deliver := func() {
		t.Helper()
		if err := w.deliver(t.Context(), e.job(sample, "alice@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	deliver()
	e.setScript(w, "alice", `require ["fileinto","mailbox"]; fileinto :create "B";`)
	deliver()
	if a := len(e.mailbox("alice", "A")); a != 2 {
		t.Fatalf("within the TTL: A has %d, want 2 (the cached script)", a)
	}
	// The TTL passes: age the cached entry rather than wait.
	uid := e.users["alice"].ID
	w.activeScripts.mu.Lock()
	ent := w.activeScripts.m[uid]
	ent.at = ent.at.Add(-time.Hour)
	w.activeScripts.m[uid] = ent
	w.activeScripts.mu.Unlock()
	deliver()
	if b := len(e.mailbox("alice", "B")); b != 1 {
		t.Fatalf("after the TTL: B has %d, want 1", b)
	}
	w.cfg.SieveTTL = -1
	e.setScript(w, "alice", `require ["fileinto","mailbox"]; fileinto :create "C";`)
	deliver()
	if c := len(e.mailbox("alice", "C")); c != 1 {
		t.Errorf("without a TTL: C has %d, want 1", c)
	}
}
