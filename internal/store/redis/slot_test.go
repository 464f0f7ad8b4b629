package redis

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// TestUserKeysShareSlot runs a scenario touching every kind of user key
// (mailboxes, messages, flags, copy, move, rename, idempotency) and checks
// with CLUSTER KEYSLOT that every key of the user hashes to one slot, and
// that every key of the database carries one of the documented hash tags.
func TestUserKeysShareSlot(t *testing.T) {
	db := openURL(t, startCluster(t), true)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.AddDomain(ctx, "example.org"))
	u, err := db.AddUser(ctx, "a@example.org", "h")
	must(err)
	must(db.AddAlias(ctx, "info@example.org", []string{"a@example.org"}))
	must(db.EnsureUser(ctx, u.ID))
	must(db.CreateMailbox(ctx, u.ID, "Work/2024", ""))
	inbox, err := db.Mailbox(ctx, u.ID, "INBOX")
	must(err)
	work, err := db.Mailbox(ctx, u.ID, "Work/2024")
	must(err)
	for i := range 3 {
		_, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, "Q"+string(rune('0'+i))+"/"+u.ID, store.NewMessage{
			BlobKey: "msg/" + string(rune('A'+i)), Size: 10, InternalDate: time.Now()})
		must(err)
	}
	_, err = db.SetFlags(ctx, u.ID, inbox.ID, []uint32{1}, store.FlagsAdd, []string{store.FlagSeen})
	must(err)
	_, _, err = db.CopyMessages(ctx, u.ID, inbox.ID, []uint32{1, 2}, work.ID)
	must(err)
	_, _, err = db.MoveMessages(ctx, u.ID, inbox.ID, []uint32{3}, work.ID)
	must(err)
	must(db.RenameMailbox(ctx, u.ID, "INBOX", "Old"))
	must(db.Enqueue(ctx, store.Job{ID: "J1", Queue: store.QueueInbound}))
	jobs, err := db.Claim(ctx, store.QueueInbound, "c", 1, 0, time.Minute)
	must(err)
	must(db.Bury(ctx, jobs[0], "test"))

	keys, err := db.Client().Keys(ctx, "*").Result()
	must(err)
	slot := func(key string) int64 {
		t.Helper()
		n, err := db.Client().ClusterKeySlot(ctx, key).Result()
		must(err)
		return n
	}
	tag := userPrefix(u.ID)
	want := slot(tag)
	var userKeys []string
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, tag+":"):
			userKeys = append(userKeys, k)
			if got := slot(k); got != want {
				t.Errorf("key %s in slot %d, want %d (slot of %s)", k, got, want, tag)
			}
		case strings.HasPrefix(k, "{dir}:") || strings.HasPrefix(k, "{q:") || strings.HasPrefix(k, "{b:") ||
			strings.HasPrefix(k, "{ledger}:"):
		default:
			t.Errorf("key %q has no documented hash tag", k)
		}
	}
	slices.Sort(userKeys)
	for _, suffix := range []string{":meta", ":mailboxes", ":idem"} {
		if !slices.Contains(userKeys, tag+suffix) {
			t.Errorf("scenario did not create %s%s; keys: %q", tag, suffix, userKeys)
		}
	}
	for _, suffix := range []string{":u", ":h", ":b"} {
		if !slices.ContainsFunc(userKeys, func(k string) bool { return strings.HasSuffix(k, suffix) }) {
			t.Errorf("scenario created no message key *%s; keys: %q", suffix, userKeys)
		}
	}
	t.Logf("%d keys of user %s, all in slot %d", len(userKeys), u.ID, want)
}
