package e2e

import (
	"os/exec"
	"testing"
	"time"
)

// TestPythonSearchExtensions: a client written with Python's imaplib
// searches with SAVEDSINCE (RFC 8514), YOUNGER and OLDER (RFC 5032) and
// MODSEQ (RFC 7162) (tests/python/searchext.py).
func TestPythonSearchExtensions(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	w := setupWorld(t)
	cmd := exec.Command(python, "python/searchext.py",
		"--imap", w.srv.addr("imap"), "--user", alice, "--password", alicePass)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("searchext.py:\n%s", out)
	if err != nil {
		t.Fatalf("searchext.py failed: %v", err)
	}
}
