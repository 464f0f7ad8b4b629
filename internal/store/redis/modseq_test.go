package redis

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/storetest"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

// TestChangesSinceIndex checks the mod-sequence index (:m) and the date
// line of heads: a listing of what changed since a mod-sequence answers as
// a full scan would, MessageHeads takes the dates from the heads alone, and
// later writes keep the index current.
func TestChangesSinceIndex(t *testing.T) {
	db := openURL(t, servers.Redis(t).URL(), true)
	ctx := context.Background()
	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 5, 4, 3, 2, 1, 123456789, time.UTC)
	for i := range 20 {
		m := storetest.BenchMessage(i)
		m.InternalDate = date.Add(time.Duration(i) * time.Second)
		if _, _, err := db.InsertMessage(ctx, "u", inbox.ID, fmt.Sprintf("J%d/u", i), m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SetFlags(ctx, "u", inbox.ID, []uint32{3, 7}, store.FlagsAdd, []string{store.FlagSeen}); err != nil {
		t.Fatal(err)
	}
	want, err := db.Messages(ctx, "u", inbox.ID, 1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	since := want[9].ModSeq // messages 11..20 and the flag changes of 3 and 7 are newer

	rdb := db.Client()
	k := userPrefix("u") + ":mb:" + inbox.ID

	check := func(label string, first, last uint32, since uint64) {
		t.Helper()
		var exp []uint32
		for _, m := range want {
			if m.UID >= first && (last == 0 || m.UID <= last) && m.ModSeq > since {
				exp = append(exp, m.UID)
			}
		}
		got, err := db.Messages(ctx, "u", inbox.ID, first, last, since)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := db.MessageHeads(ctx, "u", inbox.ID, first, last, since)
		if err != nil {
			t.Fatal(err)
		}
		var uids, headUIDs []uint32
		for i, m := range got {
			uids = append(uids, m.UID)
			w := want[slices.IndexFunc(want, func(x store.Message) bool { return x.UID == m.UID })]
			if !m.InternalDate.Equal(w.InternalDate) || m.ModSeq != w.ModSeq || !slices.Equal(m.Flags, w.Flags) {
				t.Errorf("%s: message %d = %v %d %v, want %v %d %v", label, m.UID, m.InternalDate, m.ModSeq, m.Flags, w.InternalDate, w.ModSeq, w.Flags)
			}
			h := hs[i]
			headUIDs = append(headUIDs, h.UID)
			if !h.InternalDate.Equal(w.InternalDate) || h.Summary != nil || h.Prefix != nil || h.BlobKey != w.BlobKey {
				t.Errorf("%s: head %d = %v summary %d bytes, want %v and no summary", label, h.UID, h.InternalDate, len(h.Summary), w.InternalDate)
			}
		}
		if !slices.Equal(uids, exp) || !slices.Equal(headUIDs, exp) {
			t.Errorf("%s: UIDs %v, heads %v, want %v", label, uids, headUIDs, exp)
		}
	}
	check("all", 1, 0, 0)
	check("changed since", 1, 0, since)
	check("changed since, in a range", 5, 15, since)

	// Writes after the build keep the index: a flag change, a new message,
	// an expunge.
	if _, err := db.SetFlags(ctx, "u", inbox.ID, []uint32{2}, store.FlagsAdd, []string{store.FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetFlags(ctx, "u", inbox.ID, []uint32{4}, store.FlagsAdd, []string{store.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Expunge(ctx, "u", inbox.ID, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	m := storetest.BenchMessage(99)
	m.InternalDate = date
	if _, _, err := db.InsertMessage(ctx, "u", inbox.ID, "J99/u", m); err != nil {
		t.Fatal(err)
	}
	if want, err = db.Messages(ctx, "u", inbox.ID, 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(want, func(m store.Message) bool { return m.UID == 2 }) {
		t.Fatal("message 2 not expunged")
	}
	check("after writes, changed since", 1, 0, since)
	check("after writes, the newest", 1, 0, want[len(want)-1].ModSeq-1)
	if n, err := rdb.ZCard(ctx, k+":m").Result(); err != nil || n != int64(len(want)) {
		t.Errorf(":m holds %d, %v; want %d (one per message)", n, err, len(want))
	}
}
