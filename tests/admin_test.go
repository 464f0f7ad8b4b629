package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAdminExitCodes checks the exit codes and the one-line errors of the
// built binary, and that the environment sets flags.
func TestAdminExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // the whole of stderr
	}{
		{[]string{"user", "add", "a@missing.example", "--password-stdin"}, 1, "bucketmail: user: add: domain missing.example does not exist\n"},
		{[]string{"domain", "del", "missing.example"}, 1, "bucketmail: domain: del: domain missing.example does not exist\n"},
		{[]string{"domain", "add"}, 2, "bucketmail: domain: add: want one DOMAIN\n"},
		{[]string{"alias", "add", "x@missing.example"}, 2, "bucketmail: alias: add: want SOURCE and at least one TARGET\n"},
		{[]string{"frobnicate"}, 2, "bucketmail: unknown command \"frobnicate\" (see bucketmail help)\n"},
		{[]string{"domain", "list", "--store", "mysql://127.0.0.1:1"}, 1, "bucketmail: domain: list: store URL \"mysql://127.0.0.1:1\": unsupported scheme \"mysql\" (supported: sqlite://, redis://, rediss://)\n"},
	} {
		r := admin(t, dir, "pw\n", tc.args...)
		if r.code != tc.code || r.stderr != tc.stderr {
			t.Errorf("bucketmail %s: exit %d, stderr %q; want exit %d, stderr %q",
				strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.stderr)
		}
	}

	if r := admin(t, dir, "", "domain", "add", "example.org"); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("domain add: %+v", r)
	}
	if r := admin(t, dir, "", "domain", "add", "example.org"); r.code != 1 || r.stderr != "bucketmail: domain: add: domain example.org already exists\n" {
		t.Errorf("domain add twice: %+v", r)
	}

	// BUCKETMAIL_DATA_DIR stands for --data-dir.
	cmd := exec.Command(binPath, "domain", "list")
	cmd.Env = append(cleanEnv(), "BUCKETMAIL_DATA_DIR="+dir)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil || string(out) != "example.org\n" {
		t.Errorf("domain list with BUCKETMAIL_DATA_DIR: %q, %v", out, err)
	}

	var rep struct {
		Queues []struct {
			Name    string `json:"name"`
			Pending int    `json:"pending"`
		} `json:"queues"`
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, "", "queue", "--json")), &rep); err != nil || len(rep.Queues) != 2 {
		t.Errorf("queue --json: %+v, %v", rep, err)
	}

	help := exec.Command(binPath, "help")
	help.Env = cleanEnv()
	out, err = help.Output()
	if err != nil || !strings.Contains(string(out), "bucketmail COMMAND") {
		t.Errorf("help: %v\n%s", err, out)
	}
	if _, err := os.Stat(dir + "/bucketmail.db"); err != nil {
		t.Errorf("the store is not in the data dir: %v", err)
	}
}

// TestAdminRefusesBadInput runs the built binary with the names and sizes
// the admin commands once accepted: each is refused with exit 1 and one
// line on stderr, and the directory is left as it was. An IDN domain is
// kept in its A-label form.
func TestAdminRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	mustAdmin(t, dir, "", "domain", "add", "example.org")
	mustAdmin(t, dir, "pw\n", "user", "add", "alice@example.org", "--password-stdin")
	mustAdmin(t, dir, "", "user", "quota", "alice@example.org", "1GiB")
	state := func() string {
		t.Helper()
		return mustAdmin(t, dir, "", "domain", "list") + mustAdmin(t, dir, "", "user", "list") +
			mustAdmin(t, dir, "", "user", "quota", "alice@example.org")
	}
	before := state()
	for _, args := range [][]string{
		{"user", "add", "../x@example.org", "--password-stdin"},
		{"user", "add", strings.Repeat("x", 10000) + "@example.org", "--password-stdin"}, // 10,012 characters
		{"user", "add", "x\x01@example.org", "--password-stdin"},
		{"domain", "add", "xn--"},
		{"user", "quota", "alice@example.org", "1e-9"},
		{"user", "quota", "alice@example.org", "0.5K"},
		{"user", "quota", "alice@example.org", "--", "-1"},
	} {
		r := admin(t, dir, "pw\n", args...)
		if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || len(r.stderr) > 400 {
			t.Errorf("bucketmail %.60q: exit %d, stdout %q, stderr %q; want exit 1 and one line", args, r.code, r.stdout, r.stderr)
		}
		if after := state(); after != before {
			t.Fatalf("bucketmail %.60q changed the directory:\n%s\nwas:\n%s", args, after, before)
		}
	}

	mustAdmin(t, dir, "", "domain", "add", "bücher.example")
	mustAdmin(t, dir, "pw\n", "user", "add", "anna@bücher.example", "--password-stdin")
	if out := mustAdmin(t, dir, "", "domain", "list"); out != "example.org\nxn--bcher-kva.example\n" {
		t.Errorf("domain list = %q, want the A-label form", out)
	}
	if out := mustAdmin(t, dir, "", "user", "list"); !strings.Contains(out, "anna@xn--bcher-kva.example ") {
		t.Errorf("user list = %q, want anna@xn--bcher-kva.example", out)
	}
}
