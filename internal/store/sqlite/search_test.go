package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/search/searchtest"
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
