package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/search/searchtest"
	"github.com/bucketmail/bucketmail/internal/store"
)

func TestSearchConformance(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) searchtest.Env {
		db := openFile(t, filepath.Join(t.TempDir(), "index.db"))
		bs, err := fs.Open(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return searchtest.Env{Store: db, Blobs: bs, Index: db}
	})
}

// TestSearchAutomerge: moving staged texts sets search_text's automerge
// (ftsAutomerge), in a new database and, once, in one whose table has the
// default; the texts moved are found.
func TestSearchAutomerge(t *testing.T) {
	ctx := t.Context()
	db := openFile(t, filepath.Join(t.TempDir(), "index.db"))
	automerge := func() (v sql.NullInt64) {
		err := db.r.QueryRowContext(ctx, "SELECT v FROM search_text_config WHERE k = 'automerge'").Scan(&v)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		return v
	}
	if v := automerge(); v.Valid {
		t.Fatalf("automerge %d before any text was moved", v.Int64)
	}
	if err := db.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	u, err := db.AddUser(ctx, "alice@example.org", "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	for i, reset := range []bool{false, true} {
		if reset {
			// A table made before the setting: FTS5's default again.
			if _, err := db.w.ExecContext(ctx, "DELETE FROM search_text_config WHERE k = 'automerge'"); err != nil {
				t.Fatal(err)
			}
		}
		text := &store.SearchText{Body: fmt.Sprintf("word%d of text", i)}
		if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, fmt.Sprint("k", i), store.NewMessage{BlobKey: fmt.Sprint("msg/", i), Size: 1, Summary: []byte("{}"), Text: text}); err != nil {
			t.Fatal(err)
		}
		if err := db.IndexStaged(ctx); err != nil {
			t.Fatal(err)
		}
		if v := automerge(); !v.Valid || v.Int64 != ftsAutomerge {
			t.Fatalf("automerge %v after moving, want %d", v, ftsAutomerge)
		}
		hits, unknown, err := db.SearchText(ctx, u.ID, inbox.ID, fmt.Sprintf("WORD%d", i), false)
		if err != nil || len(hits) != 1 || len(unknown) != 0 {
			t.Fatalf("search word%d: hits %v unknown %v, %v", i, hits, unknown, err)
		}
	}
}
