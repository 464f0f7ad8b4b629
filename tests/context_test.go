package e2e

import (
	"os/exec"
	"testing"
	"time"
)

// TestPythonContext: a client written with Python's imaplib keeps a UID
// SEARCH and a UID SORT up to date (RFC 5267 UPDATE) while a second
// connection stores, appends and expunges, and asks for PARTIAL results
// (tests/python/context.py).
func TestPythonContext(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	w := setupWorld(t)
	cmd := exec.Command(python, "python/context.py",
		"--imap", w.srv.addr("imap"), "--user", alice, "--password", alicePass)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("context.py:\n%s", out)
	if err != nil {
		t.Fatalf("context.py failed: %v", err)
	}
}
