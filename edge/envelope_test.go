package edge

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// smallMetaStore is the real store with S3's metadata limit enforced.
type smallMetaStore struct{ blob.Store }

func (smallMetaStore) MetaLimit() int { return 2048 }

func (s smallMetaStore) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) (int64, error) {
	if n := blob.MetaSize(meta); n > s.MetaLimit() {
		return 0, fmt.Errorf("metadata of %d bytes over the limit", n)
	}
	return s.Store.Put(ctx, key, r, meta)
}

// TestEnvelopeCappedByMetaLimit: with a store that limits metadata, the
// edge answers 452 before the envelope outgrows it, and the recipients it
// accepted are all stored with the object.
func TestEnvelopeCappedByMetaLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Blobs = smallMetaStore{c.Blobs} })
	c := e.dial(MX, false)
	if err := c.Mail("carol@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	var accepted []string
	var capped bool
	for i := range DefaultMaxRecipients {
		to := fmt.Sprintf("alice+a-rather-long-tag-number-%03d@example.test", i)
		err := c.Rcpt(to, nil)
		if err != nil {
			wantReply(t, err, 452, smtp.EnhancedCode{4, 5, 3})
			capped = true
			break
		}
		accepted = append(accepted, to)
	}
	if !capped || len(accepted) < 10 {
		t.Fatalf("accepted %d recipients, capped %v; want a 452 after at least 10", len(accepted), capped)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, testMessage); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	jobs := e.jobs(store.QueueInbound)
	if len(jobs) != 1 {
		t.Fatalf("jobs = %d, want 1", len(jobs))
	}
	_, meta := e.object(jobs[0].ID)
	job, err := store.JobFromMeta(jobs[0].BlobKey, meta)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(job.To, " "), strings.Join(accepted, " "); got != want {
		t.Errorf("recipients in metadata = %s, want %s", got, want)
	}
}
