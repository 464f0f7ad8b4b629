package snapshot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
	"github.com/bucketmail/bucketmail/worker"
)

// env is the embedded storage (testenv.Embedded) whose index a test can
// lose and replace by an empty one.
type env struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	db    *sqlite.DB
	blobs blob.Store
	stop  func() // stops the running worker, if any
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := testenv.Embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, dir: st.Dir, blobs: st.Blobs}
	e.useIndex(st.SQLite)
	return e
}

// openIndex opens (a new, empty, if name is new) index file beside the
// first one and runs a worker on it.
func (e *env) openIndex(name string) {
	e.t.Helper()
	e.useIndex(testenv.OpenSQLite(e.t, filepath.Join(e.dir, name)))
}

// useIndex stops the running worker, if any, and runs one on db.
func (e *env) useIndex(db *sqlite.DB) {
	if e.stop != nil {
		e.stop()
	}
	e.db = db
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := worker.New(worker.Config{Store: db, Blobs: e.blobs, Hostname: "test", Concurrency: 2})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	e.stop = func() {
		cancel()
		<-done
	}
	e.t.Cleanup(e.stop)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) addUser(address string) store.User {
	e.t.Helper()
	if ok, err := e.db.HasDomain(e.ctx, "example.org"); err != nil || !ok {
		must(e.t, e.db.AddDomain(e.ctx, "example.org"))
	}
	u, err := e.db.AddUser(e.ctx, address, "$argon2id$fake-"+address)
	must(e.t, err)
	return u
}

// deliver does what the edge does (object with the envelope, then the
// job) and waits for the worker to deliver it.
func (e *env) deliver(subject string, to ...string) store.Job {
	e.t.Helper()
	id := ulid.Make().String()
	j := store.Job{ID: id, Queue: store.QueueInbound, BlobKey: blob.MessageKey(id),
		From: "sender@remote.example", To: to, ReceivedAt: time.Now().UTC()}
	body := "From: sender@remote.example\r\nSubject: " + subject + "\r\n\r\nHello\r\n"
	if _, err := e.blobs.Put(e.ctx, j.BlobKey, strings.NewReader(body), store.JobMeta(j)); err != nil {
		e.t.Fatal(err)
	}
	must(e.t, e.db.Enqueue(e.ctx, j))
	e.waitDrained()
	return j
}

// appendMessage does what IMAP APPEND does.
func (e *env) appendMessage(u store.User, mailbox, subject string, flags ...string) string {
	e.t.Helper()
	must(e.t, e.db.EnsureUser(e.ctx, u.ID))
	id := ulid.Make().String()
	key := blob.MessageKey(id)
	date := time.Now().Truncate(time.Second)
	meta := store.AppendMeta(store.Appended{UserID: u.ID, Mailbox: mailbox, Date: date, Flags: flags})
	body := "From: " + u.Address + "\r\nSubject: " + subject + "\r\n\r\nSent\r\n"
	n, err := e.blobs.Put(e.ctx, key, strings.NewReader(body), meta)
	must(e.t, err)
	mb, err := e.db.Mailbox(e.ctx, u.ID, mailbox)
	must(e.t, err)
	_, _, err = e.db.InsertMessage(e.ctx, u.ID, mb.ID, id+"/"+u.ID,
		store.NewMessage{BlobKey: key, Size: n, InternalDate: date, Flags: flags, Summary: []byte("{}")})
	must(e.t, err)
	return key
}

func (e *env) waitDrained() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := e.db.QueueStats(e.ctx, store.QueueInbound)
		must(e.t, err)
		if st.Pending+st.InFlight+st.Delayed == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("queue not drained: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) mailbox(u store.User, name string) (store.Mailbox, []store.Message) {
	e.t.Helper()
	mb, err := e.db.Mailbox(e.ctx, u.ID, name)
	must(e.t, err)
	msgs, err := e.db.Messages(e.ctx, u.ID, mb.ID, 1, 0, 0)
	must(e.t, err)
	return mb, msgs
}

func (e *env) keys(prefix string) []string {
	e.t.Helper()
	infos, err := e.blobs.List(e.ctx, prefix, "", 1000)
	must(e.t, err)
	var out []string
	for _, i := range infos {
		out = append(out, i.Key)
	}
	return out
}
