package e2e

import (
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestPythonScenario drives the scenario with an independent client:
// Python's standard smtplib, imaplib and poplib (tests/python/scenario.py).
func TestPythonScenario(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	w := setupWorld(t)
	cmd := exec.Command(python, "python/scenario.py",
		"--smtp", w.srv.addr("smtp"),
		"--imap", w.srv.addr("imap"),
		"--pop3", w.srv.addr("pop3"),
		"--alice", alice, "--alice-pass", alicePass,
		"--bob", bob, "--bob-pass", w.bobPass,
		"--alias", "sales@example.org",
		"--catchall-domain", "catchall.example",
		"--max-size", strconv.Itoa(maxMessageSize),
	)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("scenario.py:\n%s", out)
	if err != nil {
		t.Fatalf("scenario.py failed: %v", err)
	}
}

// TestPythonManageSieve drives ManageSieve with a client written from RFC
// 5804 in Python over a raw socket (tests/python/managesieve.py).
func TestPythonManageSieve(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is required (make deps checks for it)")
	}
	w := setupWorld(t)
	cmd := exec.Command(python, "python/managesieve.py",
		"--addr", w.srv.addr("managesieve"), "--user", alice, "--password", alicePass)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("managesieve.py:\n%s", out)
	if err != nil {
		t.Fatalf("managesieve.py failed: %v", err)
	}
}
