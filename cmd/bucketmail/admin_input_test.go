package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

// TestAdminRefusesBadNames runs each refused input of the admin commands
// and checks the refusal: exit 1, one line on stderr, and the directory
// exactly as it was (domains, users, quotas).
func TestAdminRefusesBadNames(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, "pw\n", env, args...)
		if code != 0 {
			t.Fatalf("%q: code %d: %s", args, code, errOut)
		}
		return out
	}
	must("domain", "add", "example.org")
	must("user", "add", "alice@example.org", "--password-stdin")
	must("user", "quota", "alice@example.org", "1GiB")
	state := func() string {
		t.Helper()
		var b strings.Builder
		b.WriteString(must("domain", "list"))
		for _, line := range strings.Split(strings.TrimSpace(must("user", "list")), "\n") {
			f := strings.Fields(line) // address, id, created, usage (2 fields), quota (2 fields)
			b.WriteString(f[0] + " " + strings.Join(f[len(f)-2:], " ") + "\n")
		}
		return b.String()
	}
	before := state()

	for _, args := range [][]string{
		{"user", "add", "../x@example.org", "--password-stdin"},
		{"user", "add", strings.Repeat("x", 10000) + "@example.org", "--password-stdin"},
		{"user", "add", strings.Repeat("x", 65) + "@example.org", "--password-stdin"},
		{"user", "add", "x\x01@example.org", "--password-stdin"},
		{"user", "add", "a/b@example.org", "--password-stdin"},
		{"user", "add", ".x@example.org", "--password-stdin"},
		{"user", "add", `"x y"@example.org`, "--password-stdin"},
		{"user", "add", " bob@example.org", "--password-stdin"},
		{"user", "add", "bob@example.org.", "--password-stdin"},
		{"domain", "add", "xn--"},
		{"domain", "add", "xn--zz.example"},
		{"domain", "add", "a..example"},
		{"domain", "add", "--", "-a.example"},
		{"domain", "add", "1.2.3.4"},
		{"domain", "add", "ex/ample.org"},
		{"domain", "add", strings.Repeat("a", 64) + ".example"},
		{"domain", "add", strings.Repeat("abcdefgh.", 28) + "example"},
		{"user", "quota", "alice@example.org", "1e-9"},
		{"user", "quota", "alice@example.org", "--", "-1"},
		{"user", "quota", "alice@example.org", "0.5K"},
		{"user", "quota", "alice@example.org", "1.5G"},
		// Without "--" these are unknown flags: refused as a usage error.
		{"user", "quota", "alice@example.org", "-1"},
		{"domain", "add", "-a.example"},
	} {
		want := exitError
		if last := args[len(args)-1]; (last == "-1" || last == "-a.example") && args[len(args)-2] != "--" {
			want = exitUsage
		}
		code, out, errOut := runCmd(t, "pw\n", env, args...)
		if code != want || out != "" {
			t.Errorf("%.80q: code %d, stdout %q; want %d and nothing", args, code, out, want)
		}
		if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "bucketmail: ") || len(errOut) > 400 {
			t.Errorf("%.80q: stderr %q, want one short line", args, errOut)
		}
		if after := state(); after != before {
			t.Fatalf("%.80q changed the directory:\n%s\nwas:\n%s", args, after, before)
		}
	}
}

// TestAdminIDNDomain adds a domain and a user in Unicode form: the
// directory keeps the A-label form, which every other spelling finds.
func TestAdminIDNDomain(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, "pw\n", env, args...)
		if code != 0 {
			t.Fatalf("%q: code %d: %s", args, code, errOut)
		}
		return out
	}
	must("domain", "add", "Bücher.Example")
	if out := must("domain", "list"); out != "xn--bcher-kva.example\n" {
		t.Errorf("domain list = %q, want the A-label", out)
	}
	must("user", "add", "Anna@bücher.example", "--password-stdin")
	if out := must("user", "list"); !strings.HasPrefix(out, "anna@xn--bcher-kva.example ") {
		t.Errorf("user list = %q, want the A-label address", out)
	}
	code, _, errOut := runCmd(t, "pw\n", env, "user", "add", "anna@xn--bcher-kva.example", "--password-stdin")
	if code != exitError || !strings.Contains(errOut, "already exists") {
		t.Errorf("the A-label spelling is another user: code %d, %q", code, errOut)
	}
	must("user", "quota", "anna@BÜCHER.example", "10M")
	must("user", "del", "anna@bücher.example")
	must("domain", "del", "bücher.example")
	if out := must("domain", "list"); out != "" {
		t.Errorf("domain list after del = %q", out)
	}
}

// TestAdminDeletesLegacyNames checks that an entry made before the checks
// (written to the store directly here) can still be deleted: only new
// names are checked strictly.
func TestAdminDeletesLegacyNames(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"BUCKETMAIL_DATA_DIR": dir}
	if code, _, errOut := runCmd(t, "", env, "domain", "add", "example.org"); code != 0 {
		t.Fatal(errOut)
	}
	db := testenv.OpenSQLite(t, filepath.Join(dir, "bucketmail.db"))
	if _, err := db.AddUser(context.Background(), "../x@example.org", "x"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if code, _, errOut := runCmd(t, "", env, "user", "del", "../x@example.org"); code != 0 {
		t.Errorf("user del of a legacy name: code %d: %s", code, errOut)
	}
	if _, out, _ := runCmd(t, "", env, "user", "list"); out != "" {
		t.Errorf("user list = %q, want empty", out)
	}
}
