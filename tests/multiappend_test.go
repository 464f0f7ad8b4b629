package e2e

import (
	"os/exec"
	"testing"
	"time"
)

// TestPythonMultiappend: a client written with Python's imaplib and raw
// commands appends several messages per APPEND (RFC 3502), with
// synchronizing and LITERAL+ literals, and sees a command that fails on
// its second message store nothing (tests/python/multiappend.py).
func TestPythonMultiappend(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	w := setupWorld(t)
	cmd := exec.Command(python, "python/multiappend.py",
		"--imap", w.srv.addr("imap"), "--user", alice, "--password", alicePass)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("multiappend.py:\n%s", out)
	if err != nil {
		t.Fatalf("multiappend.py failed: %v", err)
	}
}
