package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func TestUserQuotaCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"BUCKETMAIL_DATA_DIR": dir}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, "pw\n", env, args...)
		if code != 0 {
			t.Fatalf("%v: code %d: %s", args, code, errOut)
		}
		return out
	}
	must("domain", "add", "example.org")
	must("user", "add", "alice@example.org", "--password-stdin")
	must("user", "add", "bob@example.org", "--password-stdin")

	// 1.5 KiB in alice's INBOX, written as a delivery would.
	db := testenv.OpenSQLite(t, filepath.Join(dir, "bucketmail.db"))
	ctx := context.Background()
	u, err := db.UserByAddress(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := db.Mailbox(ctx, u.ID, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.InsertMessage(ctx, u.ID, mb.ID, "", store.NewMessage{BlobKey: "msg/x", Size: 1536, Summary: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	must("user", "quota", "alice@example.org", "1GiB")
	must("user", "quota", "bob@example.org", "unlimited")
	out := must("user", "list")
	for _, re := range []string{`(?m)^alice@example\.org\s.*\s1\.5 KiB\s+1\.0 GiB$`, `(?m)^bob@example\.org\s.*\s0 B\s+unlimited$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("user list = %q, want a line matching %s", out, re)
		}
	}
	if out := must("user", "quota", "alice@example.org"); out != "usage: 1.5 KiB (1536 bytes)\nquota: 1.0 GiB\n" {
		t.Errorf("user quota ADDRESS = %q", out)
	}
	must("user", "quota", "alice@example.org", "0")
	if out := must("user", "list"); !strings.Contains(out, "default") {
		t.Errorf("user list after reset = %q", out)
	}

	code, _, errOut := runCmd(t, "", env, "user", "quota", "carol@example.org", "1G")
	if code != exitError {
		t.Errorf("quota of a missing user: code %d", code)
	}
	wantOneLine(t, errOut, "bucketmail: user: quota: user carol@example.org does not exist")
	code, _, errOut = runCmd(t, "", env, "user", "quota", "alice@example.org", "lots")
	if code != exitError {
		t.Errorf("bad size: code %d", code)
	}
	wantOneLine(t, errOut, `bucketmail: user: quota: quota: bad size "lots"`)
}
