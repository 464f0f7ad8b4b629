package main

import (
	"strings"
	"testing"
)

func TestReindexCommand(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	for _, args := range [][]string{{"reindex"}, {"reindex", "--all", "--user", "a@example.org"}, {"reindex", "--user", "nope"}} {
		code, _, errOut := runCmd(t, "", env, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
		wantOneLine(t, errOut, "bucketmail: reindex: ")
	}
	if code, _, errOut := runCmd(t, "", env, "domain", "add", "example.org"); code != 0 {
		t.Fatalf("domain add: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "secret\n", env, "user", "add", "a@example.org", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	code, out, errOut := runCmd(t, "", env, "reindex", "--all")
	if code != 0 || !strings.Contains(out, "users reindexed: 1 (0 from snapshots, 1 without one)") ||
		!strings.Contains(out, "jobs re-enqueued for delivery: 0") {
		t.Errorf("reindex --all: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "", env, "reindex", "--user", "b@example.org")
	if code != exitError {
		t.Errorf("reindex of an unknown user: exit %d", code)
	}
	wantOneLine(t, errOut, "bucketmail: reindex: user b@example.org does not exist")
}
