// Package e2e drives the built bucketmail binary the way an operator and
// mail clients do: admin commands, SMTP, IMAP and POP3 over loopback, signals.
// TestMain builds the binary once; every test starts its own processes on
// ":0" ports and a temporary data directory, and reads the bound addresses
// from the server's JSON log.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binPath is the bucketmail binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bucketmail-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "bucketmail")
	args := []string{"build", "-o", binPath}
	if os.Getenv("BUCKETMAIL_E2E_RACE") != "" {
		// Opt-in: the race detector makes the pure-Go SQLite driver
		// several times slower, too slow for the default run.
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../cmd/bucketmail")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building bucketmail:", err)
		return 1
	}
	return m.Run()
}
