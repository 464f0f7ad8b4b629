package worker

import (
	"context"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/store"
)

// recordingSink keeps the texts a worker hands to a TextSink.
type recordingSink struct{ texts map[string]store.SearchText }

func (r *recordingSink) AddText(userID, key string, t store.SearchText) {
	r.texts[userID+" "+key] = t
}

// TestDeliverIndexesText: the worker's one read of the object gives each
// recipient's entry its text, with the recipient's prefix lines, in the
// store (SQLite) and to a TextSink; with NoSearchIndex it gives none.
func TestDeliverIndexesText(t *testing.T) {
	for _, off := range []bool{false, true} {
		e := newEnv(t)
		sink := &recordingSink{texts: map[string]store.SearchText{}}
		w := e.worker(nil)
		w.cfg.TextSink, w.cfg.NoSearchIndex = sink, off
		j := e.job(sample, "alice@example.com", "bob@example.com")
		if err := w.deliver(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"alice", "bob"} {
			u := e.users[name]
			inbox, err := e.st.Mailbox(t.Context(), u.ID, store.Inbox)
			if err != nil {
				t.Fatal(err)
			}
			hits, unknown, err := e.st.SearchText(t.Context(), u.ID, inbox.ID, "HELLO\r\nWORLD", false)
			if err != nil {
				t.Fatal(err)
			}
			own, _, _ := e.st.SearchText(t.Context(), u.ID, inbox.ID, name+"@example.com", true)
			got, sunk := sink.texts[u.ID+" "+j.BlobKey]
			switch {
			case off && (len(hits) != 0 || len(unknown) != 1 || sunk):
				t.Errorf("%s, index off: hits %v, unknown %v, sink %v", name, hits, unknown, sunk)
			case !off && (len(hits) != 1 || len(unknown) != 0 || len(own) != 1 || !sunk):
				t.Errorf("%s: hits %v, unknown %v, own address %v, sink %v", name, hits, unknown, own, sunk)
			case !off && (got.Body != "hello\r\nworld" || got.Truncated):
				t.Errorf("%s: sink got %+v", name, got)
			}
		}
	}
}

// TestDeliverKeepsPreview: the summary a delivery stores carries the
// preview (RFC 8970), and the entry its text unless the index is off, with the search index on and off, for a message read
// in memory and for one streamed (larger than maxInMemory).
func TestDeliverKeepsPreview(t *testing.T) {
	big := strings.Replace(sample, "AAAA\r\n", strings.Repeat("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n", maxInMemory/70+10), 1)
	for _, off := range []bool{false, true} {
		for _, raw := range []string{sample, big} {
			e := newEnv(t)
			w := e.worker(nil)
			w.cfg.NoSearchIndex = off
			if err := w.deliver(context.Background(), e.job(raw, "alice@example.com")); err != nil {
				t.Fatal(err)
			}
			msgs := e.inbox("alice")
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			sum, err := message.Unmarshal(msgs[0].Summary)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Preview != "hello world" {
				t.Errorf("index off %v, %d bytes: preview %q", off, len(raw), sum.Preview)
			}
			u := e.users["alice"]
			inbox, err := e.st.Mailbox(t.Context(), u.ID, store.Inbox)
			if err != nil {
				t.Fatal(err)
			}
			hits, _, err := e.st.SearchText(t.Context(), u.ID, inbox.ID, "HELLO\r\nWORLD", false)
			if err != nil || len(hits) != btoi(!off) {
				t.Errorf("index off %v, %d bytes: search hits %v, %v", off, len(raw), hits, err)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
