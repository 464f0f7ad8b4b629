package e2e

import (
	"os/exec"
	"testing"
	"time"
)

// TestPythonQResync: a client written with Python's imaplib and raw
// commands resyncs with QRESYNC (RFC 7162) after another connection
// changed and expunged messages (tests/python/qresync.py).
func TestPythonQResync(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	w := setupWorld(t)
	cmd := exec.Command(python, "python/qresync.py",
		"--imap", w.srv.addr("imap"), "--user", alice, "--password", alicePass)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("qresync.py:\n%s", out)
	if err != nil {
		t.Fatalf("qresync.py failed: %v", err)
	}
}
