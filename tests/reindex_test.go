package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/snapshot"
)

// TestReindexAfterIndexLoss loses the whole index file (directory, queue,
// mailboxes: what a Redis without persistence loses) and rebuilds it with
// "bucketmail reindex --all" from the snapshots and message objects in the
// blob store: every message comes back once, flags of the snapshot stay,
// UIDVALIDITY changes, and a message newer than the snapshot is delivered
// again.
func TestReindexAfterIndexLoss(t *testing.T) {
	w := setupWorld(t, "--snapshot-interval", "100ms")
	mustSend(t, w.srv.addr("smtp"), sender, []string{alice}, message(sender, alice, "before", "in the snapshot"))
	w.waitSubjects(t, alice, alicePass, "INBOX", "before")
	c := dialIMAP(t, w.srv.addr("imap"), alice, alicePass, nil)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	flag := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}
	if err := c.Store(imap.SeqSetNum(1), flag, nil).Close(); err != nil {
		t.Fatal(err)
	}
	before := listMailbox(t, c, "INBOX")
	c.Logout()
	w.waitSnapshot(t, alice)

	// A delivery after the last snapshot, by a server that takes none.
	w.srv.stop(t)
	w.start(t, "--snapshot-interval", "0")
	mustSend(t, w.srv.addr("smtp"), sender, []string{alice}, message(sender, alice, "after", "newer than the snapshot"))
	w.waitSubjects(t, alice, alicePass, "INBOX", "before", "after")
	w.srv.stop(t)

	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(w.dataDir, "bucketmail.db"+suffix)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	out := mustAdmin(t, w.dataDir, "", "reindex", "--all")
	for _, want := range []string{"users reindexed: 2 (2 from snapshots, 0 without one)", "jobs re-enqueued for delivery: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("reindex output lacks %q:\n%s", want, out)
		}
	}

	w.start(t)
	msgs := w.waitSubjects(t, alice, alicePass, "INBOX", "before", "after")
	c = dialIMAP(t, w.srv.addr("imap"), alice, alicePass, nil)
	defer c.Logout()
	sel2, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel2.UIDValidity <= sel.UIDValidity {
		t.Errorf("UIDVALIDITY %d after reindex, was %d", sel2.UIDValidity, sel.UIDValidity)
	}
	for _, m := range msgs {
		if m.Subject == "before" && (m.UID != before[0].UID || !slices.Contains(m.Flags, imap.FlagFlagged)) {
			t.Errorf("message from the snapshot = %+v, was %+v", m, before[0])
		}
	}
}

// waitSnapshot waits until the newest snapshot of user covers all of
// their changes.
func (w *world) waitSnapshot(t *testing.T, address string) {
	t.Helper()
	st, bl := openStorage(t, w.dataDir)
	ctx := context.Background()
	u, err := st.UserByAddress(ctx, address)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, deliveryTimeout, "a snapshot of "+address, func() (bool, string) {
		seq, err := st.ChangeSeq(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		infos, err := bl.List(ctx, snapshot.UserPrefix(u.ID), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) == 0 {
			return false, "none"
		}
		newest := infos[len(infos)-1].Key
		return newest == snapshot.UserKey(u.ID, seq), newest
	})
}
