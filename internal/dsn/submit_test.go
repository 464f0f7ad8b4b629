package dsn_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/dsn"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func newIntake(t *testing.T) intake.Intake {
	t.Helper()
	st := testenv.Embedded(t)
	return intake.Intake{Blobs: st.Blobs, Queue: st.Store}
}

// TestSubmit: a notice becomes an object holding what Write makes and a
// job from the null sender to the original sender; sent again, it is a
// duplicate and not written again.
func TestSubmit(t *testing.T) {
	ctx := t.Context()
	in := newIntake(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := dsn.Params{ID: "01J00000000000000000000DSN", Hostname: "mx.example.test", Action: dsn.ActionFailed,
		At: at, QueueID: "q1", From: "bob@example.test", Arrival: at.Add(-time.Hour),
		Recipients: []dsn.Recipient{{Rcpt: "x@remote.test", Status: "5.1.1", Diagnostic: "no such user"}}}
	if dup, err := dsn.Submit(ctx, in, store.QueueInbound, p); err != nil || dup {
		t.Fatalf("Submit = %v, %v; want a new notice", dup, err)
	}
	var want bytes.Buffer
	if err := dsn.Write(&want, p); err != nil {
		t.Fatal(err)
	}
	key := blob.MessageKey(p.ID)
	if got := read(t, in.Blobs, key); got != want.String() {
		t.Errorf("object:\n%s\nwant:\n%s", got, want.String())
	}
	st, err := in.Blobs.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	j, err := store.JobFromMeta(key, st.Meta)
	if err != nil || j.From != "" || len(j.To) != 1 || j.To[0] != p.From || j.Auth != "MAILER-DAEMON@mx.example.test" {
		t.Errorf("notice job = %+v, %v", j, err)
	}
	if err := in.Blobs.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if dup, err := dsn.Submit(ctx, in, store.QueueInbound, p); err != nil || !dup {
		t.Errorf("Submit again = %v, %v; want a duplicate", dup, err)
	}
	if _, err := in.Blobs.Stat(ctx, key); err == nil {
		t.Error("a notice sent before was written again")
	}
}

// TestOriginalHeader: the header block only, lines ending in CRLF; none
// for a message that is gone.
func TestOriginalHeader(t *testing.T) {
	ctx := t.Context()
	in := newIntake(t)
	msg := "Subject: hi\nFrom: a@b.test\r\n\r\nbody\r\n"
	if _, err := in.Blobs.Put(ctx, "msg/x", strings.NewReader(msg), nil); err != nil {
		t.Fatal(err)
	}
	h, err := dsn.OriginalHeader(ctx, in.Blobs, "msg/x")
	if err != nil || string(h) != "Subject: hi\r\nFrom: a@b.test\r\n" {
		t.Errorf("OriginalHeader = %q, %v", h, err)
	}
	if h, err := dsn.OriginalHeader(ctx, in.Blobs, "msg/gone"); err != nil || h != nil {
		t.Errorf("OriginalHeader of a missing object = %q, %v", h, err)
	}
}

func read(t *testing.T, blobs blob.Store, key string) string {
	t.Helper()
	rc, err := blobs.Get(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
