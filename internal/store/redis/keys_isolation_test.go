package redis

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

// keyPatterns are the key shapes documented in keys.go (and limits.go):
// beyond the fixed words they hold only our IDs, never a mailbox name.
var keyPatterns = []*regexp.Regexp{
	regexp.MustCompile(`^\{dir\}:(domains|users|aliases|user:[0-9a-f]{32}|alias:[^{}]+|domain:[^{}]+)$`),
	regexp.MustCompile(`^\{u:[0-9a-f]{32}\}:(meta|mailboxes|idem|subs|mb:[0-9a-f]{16}(:u|:m|:h|:b)?)$`),
	regexp.MustCompile(`^\{b:msg/[0-9A-Z]{26}\}$`),
	regexp.MustCompile(`^\{q:[a-z]+\}:(stream|delayed|leases|dead|done|job:[0-9A-Z]{26})$`),
	regexp.MustCompile(`^\{ledger\}:(lease:[a-z0-9-]+|checkpoints|gc)$`),
}

// hostileMailboxNames are names a client may legitimately create (they pass
// store.ValidMailboxName) but that would corrupt or escape a key if one were
// built from them.
// Each has a character outside the hex digits of our IDs, so that a random
// user ID can never contain one ("a}:mailboxes" matched an ID ending in a).
var hostileMailboxNames = []string{
	"{u:00000000000000000000000000000000}", "zz}:mailboxes", "x:mb:0123456789abcdef",
	"&AKM-", "~alice", "#alice", "alice@example.org/INBOX", "msg/01ARZ3NDEKTSV4RRFFQ69G5FAV",
	"{dir}:user:evil", "Spaß/日本語", "name with spaces", strings.Repeat("L", 200),
}

// TestNoMailboxNameInKeys runs a scenario with hostile mailbox names (create,
// deliver, copy, move, rename, subscribe, delete) and then SCANs every key:
// each must match a documented pattern and none may contain a mailbox name.
func TestNoMailboxNameInKeys(t *testing.T) {
	srv := servers.Redis(t)
	db := openURL(t, srv.URL(), true)
	ctx := context.Background()
	if err := db.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	u, err := db.AddUser(ctx, "alice@example.org", "$argon2id$x")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for i, name := range hostileMailboxNames {
		if err := store.ValidMailboxName(name); err != nil {
			t.Fatalf("%q is not a valid name (%v): pick names a client can create", name, err)
		}
		if err := db.CreateMailbox(ctx, u.ID, name, ""); err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
		if err := db.SetSubscribed(ctx, u.ID, name, true); err != nil {
			t.Fatal(err)
		}
		mb, err := db.Mailbox(ctx, u.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		id := ulid.Make().String()
		if _, _, err := db.InsertMessage(ctx, u.ID, mb.ID, id+"/"+u.ID, store.NewMessage{
			BlobKey: blob.MessageKey(id), Size: 10, InternalDate: time.Now(), Flags: []string{"$" + strings.Repeat("k", i+1)},
		}); err != nil {
			t.Fatal(err)
		}
		inbox, err := db.Mailbox(ctx, u.ID, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.CopyMessages(ctx, u.ID, mb.ID, []uint32{1}, inbox.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.RenameMailbox(ctx, u.ID, name, name+"-renamed"); err != nil {
			t.Fatalf("rename %q: %v", name, err)
		}
	}
	// Delete half of them again, so that deletion paths run too.
	for _, name := range hostileMailboxNames[:len(hostileMailboxNames)/2] {
		if err := db.DeleteMailbox(ctx, u.ID, name+"-renamed"); err != nil {
			t.Fatalf("delete %q: %v", name, err)
		}
	}
	var keys []string
	it := db.Client().Scan(ctx, 0, "*", 100).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) < 10 {
		t.Fatalf("only %d keys after the scenario: %v", len(keys), keys)
	}
	for _, k := range keys {
		matched := false
		for _, p := range keyPatterns {
			matched = matched || p.MatchString(k)
		}
		if !matched {
			t.Errorf("key %q matches no documented pattern", k)
		}
		for _, name := range hostileMailboxNames {
			if strings.Contains(k, name) {
				t.Errorf("key %q contains the mailbox name %q", k, name)
			}
		}
	}
}
