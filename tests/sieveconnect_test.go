package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSieveConnect drives the ManageSieve gateway (RFC 5804) with
// Debian's sieve-connect, a client written independently of this
// project: upload, list, activate, download, over STARTTLS with PLAIN.
func TestSieveConnect(t *testing.T) {
	bin, err := exec.LookPath("sieve-connect")
	if err != nil {
		t.Skip("sieve-connect not found: the ManageSieve gateway is not checked with it (install Debian's sieve-connect package; make deps does)")
	}
	w := setupWorld(t)
	host, port, err := net.SplitHostPort(w.srv.addr("managesieve"))
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "filters.sieve")
	if err := os.WriteFile(local, []byte(filterScript), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		return runSieveConnect(t, bin, host, port, args...)
	}
	run("--upload", "--localsieve", local, "--remotesieve", "filters")
	if listed, active := scriptLine(run("--list"), "filters"); !listed || active {
		t.Errorf("list after upload: listed %v, active %v; want listed, not active", listed, active)
	}
	run("--activate", "--remotesieve", "filters")
	if got := run("--list"); !scriptActive(got, "filters") {
		t.Errorf("list after activate: %q, want filters active", got)
	}
	back := filepath.Join(t.TempDir(), "back.sieve")
	run("--download", "--remotesieve", "filters", "--localsieve", back)
	got, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != filterScript {
		t.Errorf("downloaded script = %q, want the uploaded %q", got, filterScript)
	}
	if src := mustAdmin(t, w.dataDir, "", "sieve", "get", alice, "filters"); src != filterScript {
		t.Errorf("stored script = %q", src)
	}
}

// scriptLine reports whether the output of sieve-connect --list names
// script, and whether as the active one.
func scriptLine(out, script string) (listed, active bool) {
	for _, l := range strings.Split(out, "\n") {
		name, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
		if name == `"`+script+`"` {
			return true, strings.EqualFold(rest, "ACTIVE")
		}
	}
	return false, false
}

func scriptActive(out, script string) bool {
	listed, active := scriptLine(out, script)
	return listed && active
}

// runSieveConnect runs one sieve-connect action as alice, the password
// on file descriptor 3, and returns its output; a failure fails t.
func runSieveConnect(t *testing.T, bin, host, port string, args ...string) string {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if _, err := pw.WriteString(alicePass + "\n"); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// The server's certificate is self-signed: no verification.
	base := []string{"--server", host, "--port", port, "--user", alice, "--passwordfd", "3",
		"--notlsverify", "--authmech", "PLAIN"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.ExtraFiles = []*os.File{pr}
	cmd.Stdin = strings.NewReader("")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("sieve-connect %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}
