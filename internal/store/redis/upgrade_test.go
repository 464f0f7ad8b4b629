package redis

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

// TestMailboxFromBefore: a mailbox written before the deleted count,
// keywords, recent mark, tombstones and save dates were kept (its hash
// lacks del, kw, rec and xf, its heads end at the date) reads as if they
// had always been kept: the counts from its heads, nothing recent,
// nothing remembered as expunged, save dates at the internal dates.
func TestMailboxFromBefore(t *testing.T) {
	db := openURL(t, servers.Redis(t).URL(), true)
	ctx := context.Background()
	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, flags := range [][]string{{store.FlagDeleted, "Work"}, {"$Junk"}, {store.FlagDeleted, store.FlagSeen}} {
		m := store.NewMessage{BlobKey: "msg/x", Size: 1, InternalDate: date, Flags: flags}
		if _, _, err := db.InsertMessage(ctx, "u", inbox.ID, "", m); err != nil {
			t.Fatal(err)
		}
	}
	// Make it old: drop the new fields and cut every head after its date.
	rdb := db.Client()
	k := userPrefix("u") + ":mb:" + inbox.ID
	if err := rdb.HDel(ctx, k, "del", "kw", "rec", "xf").Err(); err != nil {
		t.Fatal(err)
	}
	heads, err := rdb.HGetAll(ctx, k+":h").Result()
	if err != nil {
		t.Fatal(err)
	}
	for uid, h := range heads {
		parts := strings.SplitN(h, "\n", 6)
		if err := rdb.HSet(ctx, k+":h", uid, strings.Join(parts[:5], "\n")).Err(); err != nil {
			t.Fatal(err)
		}
	}

	mb, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if mb.Deleted != 2 || !slices.Equal(mb.Keywords, []string{"Work", "$Junk"}) && !slices.Equal(mb.Keywords, []string{"$Junk", "Work"}) {
		t.Fatalf("old mailbox: Deleted %d, Keywords %q", mb.Deleted, mb.Keywords)
	}
	ms, err := db.Messages(ctx, "u", inbox.ID, 1, 0, 0)
	if err != nil || len(ms) != 3 {
		t.Fatalf("messages: %d, %v", len(ms), err)
	}
	for _, m := range ms {
		if !m.SaveDate.Equal(date) || m.EmailID != store.EmailIDOf(inbox.ID, m.UID) {
			t.Fatalf("old message %d: SaveDate %v, EmailID %q", m.UID, m.SaveDate, m.EmailID)
		}
	}
	if first, last, err := db.ClaimRecent(ctx, "u", inbox.ID); err != nil || first != 0 || last != 0 {
		t.Fatalf("ClaimRecent of an old mailbox = %d:%d, %v", first, last, err)
	}
	if _, complete, err := db.Vanished(ctx, "u", inbox.ID, 1); err != nil || complete {
		t.Fatalf("Vanished(1) of an old mailbox: complete %v, %v", complete, err)
	}
	hms := mb.HighestModSeq
	if _, complete, err := db.Vanished(ctx, "u", inbox.ID, hms); err != nil || !complete {
		t.Fatalf("Vanished(HIGHESTMODSEQ) of an old mailbox: complete %v, %v", complete, err)
	}
	// Its first expunge starts the tombstones, from its mod-sequence on.
	if _, err := db.Expunge(ctx, "u", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, complete, err := db.Vanished(ctx, "u", inbox.ID, hms); err != nil || !complete || !slices.Equal(got, []uint32{1, 3}) {
		t.Fatalf("Vanished(%d) after an expunge = %v complete %v, %v", hms, got, complete, err)
	}
	if mb, err := db.Mailbox(ctx, "u", store.Inbox); err != nil || mb.Deleted != 0 || mb.Messages != 1 {
		t.Fatalf("after expunge: %+v, %v", mb, err)
	}
	if first, last, err := db.ClaimRecent(ctx, "u", inbox.ID); err != nil || first != 0 || last != 0 {
		t.Fatalf("ClaimRecent again = %d:%d, %v", first, last, err)
	}
}
