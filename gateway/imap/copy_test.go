package imapgw

import (
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func uidList(t *testing.T, set imap.NumSet) []imap.UID {
	t.Helper()
	uids, ok := set.(imap.UIDSet).Nums()
	if !ok {
		t.Fatalf("dynamic UID set %v", set)
	}
	return uids
}

func TestCopyAndMove(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	for range 4 {
		env.deliver(t, a, "INBOX", "", plainMsg)
	}
	var expunged []uint32
	c := env.dial(t, a, &imapclient.UnilateralDataHandler{Expunge: func(seq uint32) { expunged = append(expunged, seq) }})
	mustSelect(t, c, "INBOX", false)
	archive, err := c.Status("Archive", &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}

	cp, err := c.Copy(imap.SeqSetNum(2, 3), "Archive").Wait()
	if err != nil {
		t.Fatalf("COPY: %v", err)
	}
	if cp.UIDValidity != archive.UIDValidity || !slices.Equal(uidList(t, cp.SourceUIDs), []imap.UID{2, 3}) ||
		!slices.Equal(uidList(t, cp.DestUIDs), []imap.UID{1, 2}) {
		t.Errorf("COPYUID = %+v", cp)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Nowhere").Wait(); imapCode(err) != imap.ResponseCodeTryCreate {
		t.Errorf("COPY to missing mailbox: %v, want TRYCREATE", err)
	}

	mv, err := c.Move(imap.UIDSetNum(1, 3), "Trash").Wait()
	if err != nil {
		t.Fatalf("MOVE: %v", err)
	}
	if !slices.Equal(uidList(t, mv.SourceUIDs), []imap.UID{1, 3}) || !slices.Equal(uidList(t, mv.DestUIDs), []imap.UID{1, 2}) {
		t.Errorf("MOVE COPYUID = %+v", mv)
	}
	// UID 3 is sequence 3, then UID 1 is sequence 1.
	if !slices.Equal(expunged, []uint32{3, 1}) {
		t.Errorf("MOVE expunged %v, want [3 1]", expunged)
	}
	if _, err := c.Move(imap.SeqSetNum(1), "Nowhere").Wait(); imapCode(err) != imap.ResponseCodeTryCreate {
		t.Errorf("MOVE to missing mailbox: %v, want TRYCREATE", err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 2 || msgs[0].UID != 2 || msgs[1].UID != 4 {
		t.Errorf("INBOX after MOVE: %v, %v", msgs, err)
	}
	for name, want := range map[string]uint32{"INBOX": 2, "Archive": 2, "Trash": 2} {
		st, err := c.Status(name, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil || *st.NumMessages != want {
			t.Errorf("STATUS %s: %v, %v", name, st, err)
		}
	}

	// Appending to a missing mailbox is TRYCREATE too.
	cmd := c.Append("Nowhere", int64(len(plainMsg)), nil)
	cmd.Write([]byte(plainMsg))
	cmd.Close()
	if _, err := cmd.Wait(); imapCode(err) != imap.ResponseCodeTryCreate {
		t.Errorf("APPEND to missing mailbox: %v, want TRYCREATE", err)
	}
}

func TestExpungeDeletesOrphans(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	for range 5 {
		env.deliver(t, a, "INBOX", "", plainMsg)
	}
	var expunged []uint32
	c := env.dial(t, a, &imapclient.UnilateralDataHandler{Expunge: func(seq uint32) { expunged = append(expunged, seq) }})
	mustSelect(t, c, "INBOX", false)
	// Message 1 also lives in Archive: its object must survive.
	if _, err := c.Copy(imap.SeqSetNum(1), "Archive").Wait(); err != nil {
		t.Fatal(err)
	}
	// objects counts the objects not handed to the collector, which
	// deletes orphans a delay later (internal/reconcile).
	objects := func() int {
		l, err := env.blobs.List(t.Context(), "msg/", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		due, err := env.store.DueBlobDeletes(t.Context(), time.Now().Add(24*time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(l) - len(due)
	}

	deleted := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := c.Store(imap.SeqSetNum(1, 2, 4, 5), deleted, nil).Close(); err != nil {
		t.Fatal(err)
	}
	// UID EXPUNGE only touches the given UIDs (RFC 4315 section 2.1).
	seqs, err := c.UIDExpunge(imap.UIDSetNum(4)).Collect()
	if err != nil || !slices.Equal(seqs, []uint32{4}) {
		t.Errorf("UID EXPUNGE 4 = %v, %v", seqs, err)
	}
	seqs, err = c.Expunge().Collect()
	if err != nil || !slices.Equal(seqs, []uint32{4, 2, 1}) {
		t.Errorf("EXPUNGE = %v, %v; want [4 2 1]", seqs, err)
	}
	if n := objects(); n != 2 {
		t.Errorf("%d objects left, want 2 (UID 3 in INBOX, UID 1 in Archive)", n)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].UID != 3 {
		t.Errorf("left in INBOX: %v, %v", msgs, err)
	}

	// CLOSE expunges silently; after EXAMINE it expunges nothing.
	env.deliver(t, a, "INBOX", "", plainMsg, `\Deleted`)
	mustSelect(t, c, "INBOX", true)
	if err := c.UnselectAndExpunge().Wait(); err != nil {
		t.Fatalf("CLOSE after EXAMINE: %v", err)
	}
	if st, _ := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait(); *st.NumMessages != 2 {
		t.Errorf("CLOSE after EXAMINE expunged: %d messages", *st.NumMessages)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge().Collect(); err == nil {
		t.Errorf("EXPUNGE in EXAMINE succeeded")
	}
	mustSelect(t, c, "INBOX", false)
	expunged = nil
	if err := c.UnselectAndExpunge().Wait(); err != nil {
		t.Fatalf("CLOSE: %v", err)
	}
	if len(expunged) != 0 {
		t.Errorf("CLOSE sent EXPUNGE %v", expunged)
	}
	if st, _ := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait(); *st.NumMessages != 1 {
		t.Errorf("after CLOSE: %d messages, want 1", *st.NumMessages)
	}

	// Deleting a mailbox releases the objects only it referred to.
	if err := c.Delete("Archive").Wait(); err != nil {
		t.Fatal(err)
	}
	if n := objects(); n != 1 {
		t.Errorf("%d objects after DELETE Archive, want 1", n)
	}
}
