package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
)

// TestReindexSearch: messages entered without text (as a snapshot import
// leaves them) get it from their objects, with progress on stderr, and a
// search then reads none of them.
func TestReindexSearch(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"BUCKETMAIL_DATA_DIR": dir}
	if code, _, errOut := runCmd(t, "", env, "domain", "add", "example.org"); code != 0 {
		t.Fatalf("domain add: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "secret\n", env, "user", "add", "a@example.org", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(dir, "bucketmail.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bs, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.UserByAddress(ctx, "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"a needle here", "only hay"} {
		key := blob.MessageKey("01HZZZZZZZZZZZZZZZZZZZZZZ" + string(rune('A'+i)))
		raw := "Subject: s\r\n\r\n" + body + "\r\n"
		if _, err := bs.Put(ctx, key, strings.NewReader(raw), nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, "", store.NewMessage{BlobKey: key, Size: int64(len(raw))}); err != nil {
			t.Fatal(err)
		}
	}
	_, unknown, err := db.SearchText(ctx, u.ID, inbox.ID, "needle", false)
	if err != nil || len(unknown) != 2 {
		t.Fatalf("before: unknown %v, %v", unknown, err)
	}
	code, out, errOut := runCmd(t, "", env, "reindex", "--search", "--all")
	if code != 0 || !strings.Contains(out, "search texts written: 2 for 1 users") ||
		!strings.Contains(errOut, "search: user 1 of 1: a@example.org: 2 messages indexed") {
		t.Fatalf("reindex --search --all: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	hits, unknown, err := db.SearchText(ctx, u.ID, inbox.ID, "needle", false)
	if err != nil || len(unknown) != 0 || len(hits) != 1 || hits[0] != 1 {
		t.Fatalf("after: hits %v, unknown %v, %v", hits, unknown, err)
	}
	code, out, _ = runCmd(t, "", env, "reindex", "--search", "--user", "a@example.org")
	if code != 0 || !strings.Contains(out, "search texts written: 0 for 1 users") {
		t.Errorf("second run: exit %d, stdout %q", code, out)
	}
}
