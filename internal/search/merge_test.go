package search

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// TestMergeKeepsHeldObjects: a merge of many small segments writes one
// with the texts of the objects the user still holds, deletes the merged
// ones, and the index answers as before for what remains.
func TestMergeKeepsHeldObjects(t *testing.T) {
	ctx := context.Background()
	st := testenv.Embedded(t)
	db, bs := st.SQLite, st.Blobs
	u := st.User("a@example.org")
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	w := &Writer{Blobs: bs, Store: db, Batch: 4, MergeAt: 4}
	for i := range 40 {
		key := fmt.Sprintf("msg/%03d", i)
		if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, "", store.NewMessage{BlobKey: key, Size: 1}); err != nil {
			t.Fatal(err)
		}
		w.AddText(u.ID, key, store.SearchText{Body: fmt.Sprintf("word%03d common", i)})
		if i%4 == 3 {
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Expunge the first ten, then merge everything.
	var uids []uint32
	for i := uint32(1); i <= 10; i++ {
		uids = append(uids, i)
	}
	if _, err := db.SetFlags(ctx, u.ID, inbox.ID, uids, store.FlagsAdd, []string{store.FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Expunge(ctx, u.ID, inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	keys, err := listSegments(ctx, bs, u.ID)
	if err != nil || len(keys) < 2 {
		t.Fatalf("%d segments before, %v", len(keys), err)
	}
	if err := Merge(ctx, bs, db, u.ID, keys); err != nil {
		t.Fatal(err)
	}
	after, err := listSegments(ctx, bs, u.ID)
	if err != nil || len(after) != 1 {
		t.Fatalf("segments after: %v, %v", after, err)
	}
	docs, err := readSegment(ctx, bs, after[0])
	if err != nil || len(docs) != 30 {
		t.Fatalf("%d docs, %v", len(docs), err)
	}
	for _, d := range docs {
		if strings.Compare(d.Key, "msg/010") < 0 {
			t.Errorf("doc of expunged %s kept", d.Key)
		}
	}
	ix := &Index{Blobs: bs, Store: db, ListEvery: -1}
	hits, unknown, err := ix.SearchText(ctx, u.ID, inbox.ID, "COMMON", false)
	if err != nil || len(hits) != 30 || len(unknown) != 0 {
		t.Fatalf("hits %d, unknown %v, %v", len(hits), unknown, err)
	}
}

func TestDeleteUser(t *testing.T) {
	ctx := context.Background()
	bs, err := fs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	w := &Writer{Blobs: bs}
	for i := range 3 {
		w.AddText("u1", fmt.Sprint("msg/", i), store.SearchText{Body: "x"})
		w.AddText("u2", fmt.Sprint("msg/", i), store.SearchText{Body: "x"})
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := DeleteUser(ctx, bs, "u1"); err != nil {
		t.Fatal(err)
	}
	k1, _ := listSegments(ctx, bs, "u1")
	k2, _ := listSegments(ctx, bs, "u2")
	if len(k1) != 0 || len(k2) != 3 {
		t.Fatalf("segments left: u1 %v, u2 %v", k1, k2)
	}
}
