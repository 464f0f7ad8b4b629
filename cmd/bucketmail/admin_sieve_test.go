package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSieveCommands stores, lists, activates, reads and deletes a
// user's scripts, and refuses a bad script with its line and column.
func TestSieveCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"BUCKETMAIL_DATA_DIR": filepath.Join(dir, "data")}
	for _, args := range [][]string{{"domain", "add", "example.test"}, {"user", "add", "a@example.test", "--password-stdin"}} {
		if code, _, errOut := runCmd(t, "secret-password\n", env, args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	file := filepath.Join(dir, "main.sieve")
	src := "require \"fileinto\";\nfileinto \"Lists\";\n"
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		stdin string
		args  []string
		code  int
		out   string
	}{
		{"", []string{"sieve", "put", "a@example.test", "main", file}, 0, ""},
		{"discard;", []string{"sieve", "put", "a@example.test", "other", "-"}, 0, ""},
		{"", []string{"sieve", "activate", "a@example.test", "main"}, 0, ""},
		{"", []string{"sieve", "list", "a@example.test"}, 0, "main\tactive\nother\n"},
		{"", []string{"sieve", "get", "a@example.test", "main"}, 0, src},
		{"", []string{"sieve", "del", "a@example.test", "main"}, 1, ""},
		{"", []string{"sieve", "del", "a@example.test", "other"}, 0, ""},
		{"", []string{"sieve", "activate", "a@example.test"}, 0, ""},
		{"", []string{"sieve", "list", "a@example.test"}, 0, "main\n"},
		{"keep;\n  frob;", []string{"sieve", "put", "a@example.test", "bad", "-"}, 1, ""},
		{"", []string{"sieve", "list", "nobody@example.test"}, 1, ""},
		{"", []string{"sieve", "get", "a@example.test"}, 2, ""},
		{"keep;", []string{"sieve", "check", "-"}, 0, "ok\n"},
	}
	for _, s := range steps {
		code, out, errOut := runCmd(t, s.stdin, env, s.args...)
		if code != s.code || (s.code == 0 && out != s.out) {
			t.Errorf("%v: exit %d, out %q, err %q; want %d, %q", s.args, code, out, errOut, s.code, s.out)
		}
	}
	code, _, errOut := runCmd(t, "keep;\n  frob;", env, "sieve", "check", "-")
	if code != 1 || !strings.Contains(errOut, "line 2 column 3: unknown command frob") {
		t.Errorf("check of a bad script: exit %d, %q", code, errOut)
	}
}

// TestReindexRestoresSieve: reindex copies active scripts from the bucket
// back into the store.
func TestReindexRestoresSieve(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	for _, s := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"domain", "add", "example.test"}},
		{"secret-password\n", []string{"user", "add", "a@example.test", "--password-stdin"}},
		{"discard;", []string{"sieve", "put", "a@example.test", "main", "-"}},
		{"", []string{"sieve", "activate", "a@example.test", "main"}},
	} {
		if code, _, errOut := runCmd(t, s.stdin, env, s.args...); code != 0 {
			t.Fatalf("%v: %s", s.args, errOut)
		}
	}
	code, out, errOut := runCmd(t, "", env, "reindex", "--all")
	if code != 0 || !strings.Contains(out, "active sieve scripts restored: 1\n") {
		t.Fatalf("reindex: exit %d\n%s%s", code, out, errOut)
	}
}
