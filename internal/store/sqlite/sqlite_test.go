package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/storetest"
)

func openFile(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func openTemp(t testing.TB) *DB {
	return openFile(t, filepath.Join(t.TempDir(), "bucketmail.db"))
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "bucketmail.db")
		return openFile(t, path), openFile(t, path)
	})
}

func TestReopenPersists(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bucketmail.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	u, err := db.AddUser(ctx, "a@example.org", "h")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	uid, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, "k1", store.NewMessage{BlobKey: "msg/1", Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Enqueue(ctx, store.Job{ID: "j", Queue: store.QueueInbound}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openFile(t, path)
	got, err := db.UserByAddress(ctx, "a@example.org")
	if err != nil || got.ID != u.ID {
		t.Fatalf("user after reopen: %+v, %v", got, err)
	}
	mb, err := db.Mailbox(ctx, u.ID, "INBOX")
	if err != nil || !reflect.DeepEqual(mb, inbox) && (mb.Messages != 1 || mb.UIDValidity != inbox.UIDValidity) {
		t.Fatalf("INBOX after reopen: %+v, %v", mb, err)
	}
	if again, dup, err := db.InsertMessage(ctx, u.ID, inbox.ID, "k1", store.NewMessage{BlobKey: "msg/1", Size: 3}); err != nil || !dup || again != uid {
		t.Fatalf("idempotency key lost on reopen: %d %v %v", again, dup, err)
	}
	if st, err := db.QueueStats(ctx, store.QueueInbound); err != nil || st.Pending != 1 {
		t.Fatalf("queue after reopen: %+v, %v", st, err)
	}
	var version int
	if err := db.r.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("user_version = %d, %v", version, err)
	}
}

// TestTwoHandlesConcurrentWrites hammers one file through two DBs (as two
// processes would) and expects no SQLITE_BUSY to reach the caller.
func TestTwoHandlesConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bucketmail.db")
	a, b := openFile(t, path), openFile(t, path)
	if err := a.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	u, err := a.AddUser(ctx, "a@example.org", "h")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := b.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for i := range 2 * goroutines {
		db := []*DB{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				key := fmt.Sprintf("g%d-%d", i, n)
				if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, key, store.NewMessage{BlobKey: "msg/" + key, Size: 1}); err != nil {
					errs <- err
					return
				}
				if err := db.Enqueue(ctx, store.Job{ID: key, Queue: store.QueueOutbound}); err != nil {
					errs <- err
					return
				}
				if _, err := db.ListMailboxes(ctx, u.ID); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mb, err := a.Mailbox(ctx, u.ID, "INBOX")
	if err != nil || mb.Messages != 2*goroutines*each || mb.UIDNext != 2*goroutines*each+1 {
		t.Fatalf("INBOX = %+v, %v", mb, err)
	}
}

func TestUIDValidityIncreases(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var last uint32
	for i := range 5 {
		name := fmt.Sprint("M", i%2)
		if err := db.CreateMailbox(ctx, "u", name, ""); err != nil {
			t.Fatal(err)
		}
		mb, err := db.Mailbox(ctx, "u", name)
		if err != nil {
			t.Fatal(err)
		}
		if mb.UIDValidity <= last {
			t.Fatalf("UIDVALIDITY %d after %d", mb.UIDValidity, last)
		}
		last = mb.UIDValidity
		if err := db.DeleteMailbox(ctx, "u", name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWatchPollerStops checks that the poller goroutine ends when the last
// watcher goes away and that Close closes open Watch channels.
func TestWatchPollerStops(t *testing.T) {
	db := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch := db.Watch(ctx, "u")
	cancel()
	for range ch {
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		db.watch.mu.Lock()
		running := db.watch.running
		db.watch.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("poller still running without watchers")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ch = db.Watch(context.Background(), "u")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch {
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

// TestLargeUIDSets crosses the chunk size of the IN (...) lists.
func TestLargeUIDSets(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, _ := db.Mailbox(ctx, "u", "INBOX")
	trash, _ := db.Mailbox(ctx, "u", "Trash")
	const n = 2*chunk + 7
	err := db.mutate(ctx, "setup", "u", func(t *txn) error {
		_, row, err := mailboxByID(ctx, t.Tx, "u", inbox.ID)
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			m := store.NewMessage{BlobKey: fmt.Sprint("msg/", i), Size: 1}
			if err := t.insertRow(row, uint32(i), 2, m, nil, time.Now(), ""); err != nil {
				return err
			}
			if err := t.ref(m.BlobKey, 1); err != nil {
				return err
			}
		}
		return t.addCounts(row, n, 2, delta{messages: n, unseen: n, size: n})
	})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]uint32, 0, n+1)
	for i := n; i >= 1; i-- {
		all = append(all, uint32(i))
	}
	all = append(all, 5) // duplicates and disorder are fine
	changed, err := db.SetFlags(ctx, "u", inbox.ID, all, store.FlagsAdd, []string{store.FlagDeleted, store.FlagSeen})
	if err != nil || len(changed) != n {
		t.Fatalf("SetFlags changed %d, %v", len(changed), err)
	}
	src, dst, err := db.MoveMessages(ctx, "u", inbox.ID, all, trash.ID)
	if err != nil || len(src) != n || len(dst) != n || src[0] != 1 || src[n-1] != n {
		t.Fatalf("move %d -> %d, %v", len(src), len(dst), err)
	}
	exp, err := db.Expunge(ctx, "u", trash.ID, dst)
	if err != nil || len(exp) != n {
		t.Fatalf("expunge %d, %v", len(exp), err)
	}
	if due, err := db.DueBlobDeletes(ctx, time.Now().Add(time.Hour), 0); err != nil || len(due) != n {
		t.Fatalf("scheduled deletes after expunge: %d, %v", len(due), err)
	}
	for _, name := range []string{"INBOX", "Trash"} {
		if mb, _ := db.Mailbox(ctx, "u", name); mb.Messages != 0 || mb.Unseen != 0 || mb.Size != 0 {
			t.Fatalf("%s counters: %+v", name, mb)
		}
	}
}

// TestPoisonJobBuried checks that a job whose worker dies store.MaxAttempts
// times (its lease expires every time) is dead-lettered by Claim.
func TestPoisonJobBuried(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if err := db.Enqueue(ctx, store.Job{ID: "poison", Queue: store.QueueInbound}); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= store.MaxAttempts; attempt++ {
		jobs, err := db.Claim(ctx, store.QueueInbound, "dies", 1, 5*time.Second, time.Millisecond)
		if err != nil || len(jobs) != 1 || jobs[0].Attempts != attempt {
			t.Fatalf("claim %d = %+v, %v", attempt, jobs, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		jobs, err := db.Claim(ctx, store.QueueInbound, "dies", 1, 0, time.Millisecond)
		if err != nil || len(jobs) != 0 {
			t.Fatalf("claim after %d attempts = %+v, %v", store.MaxAttempts, jobs, err)
		}
		dead, err := db.DeadJobs(ctx, store.QueueInbound, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == 1 && dead[0].ID == "poison" && dead[0].LastError != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead jobs = %+v", dead)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLedger(t *testing.T) {
	storetest.RunLedger(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestSnapshots(t *testing.T) {
	storetest.RunSnapshots(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestDoneJobsPruned checks that done records older than
// store.DoneRetention go at the next prune, and younger ones stay.
func TestDoneJobsPruned(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	old, recent := store.Job{ID: "old", Queue: store.QueueInbound}, store.Job{ID: "recent", Queue: store.QueueInbound}
	err := db.write(ctx, "test", func(tx *sql.Tx) error {
		if err := db.recordDone(ctx, tx, old, time.Now().Add(-store.DoneRetention-time.Hour), false); err != nil {
			return err
		}
		return db.recordDone(ctx, tx, recent, time.Now().Add(-time.Hour), true)
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRow("SELECT count(*) FROM done_jobs").Scan(&n); err != nil || n != 1 {
		t.Fatalf("done records after prune = %d, %v", n, err)
	}
	if ok, err := db.JobKnown(ctx, store.QueueInbound, "recent"); err != nil || !ok {
		t.Fatalf("recent done job known = %v, %v", ok, err)
	}
}

// TestJobQueued: queued until acked, whatever the state.
func TestJobQueued(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	queued := func(id string) bool {
		t.Helper()
		ok, err := db.JobQueued(ctx, store.QueueInbound, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, id := range []string{"a", "b"} {
		if err := db.Enqueue(ctx, store.Job{ID: id, Queue: store.QueueInbound}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := db.Claim(ctx, store.QueueInbound, "c", 2, 0, time.Minute)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("claim = %v, %v", jobs, err)
	}
	if err := db.Bury(ctx, jobs[1], "dead"); err != nil {
		t.Fatal(err)
	}
	if !queued("a") || !queued("b") || queued("never") {
		t.Fatal("in-flight or dead job not queued, or unknown job queued")
	}
	if err := db.Ack(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if queued(jobs[0].ID) {
		t.Fatal("acked job still queued")
	}
}

// TestMigrateMessagesToRowid: a file written at schema version 6 (messages
// WITHOUT ROWID) keeps every message, flag and idempotency key when
// migration 7 rebuilds the table, and the listings and indexes work after;
// migration 10 counts the \Deleted messages, lists the keywords in use,
// and leaves nothing recent or remembered as expunged.
func TestMigrateMessagesToRowid(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bucketmail.db")
	old, err := openAt(path, 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	u, err := old.AddUser(ctx, "a@example.org", "h")
	if err != nil {
		t.Fatal(err)
	}
	// The rows as this program's version 6 wrote them: this program
	// writes only the newest schema.
	summary := []byte(`{"s":3,"h":"` + strings.Repeat("QUJD", 400) + `"}`) // a row that overflows
	flags := []string{"", `\Seen`, `$Junk \Deleted`, "Work", `\Deleted \Seen`}
	var row int64
	if err := old.w.QueryRow(`INSERT INTO mailboxes(user_id, name, special_use, subscribed, uidvalidity, uidnext,
		highestmodseq, messages, unseen, size) VALUES (?, 'INBOX', '', 1, 100, 6, 6, 5, 3, 15) RETURNING id`, u.ID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	inbox := store.Mailbox{ID: fmt.Sprint(row)}
	var before []store.Message
	for i := range 5 {
		m := store.Message{NewMessage: store.NewMessage{BlobKey: fmt.Sprintf("msg/%d", i), Prefix: []byte("Delivered-To: a@example.org\r\n"),
			Size: 3, InternalDate: time.Unix(int64(1e9+i), 0).UTC(), Summary: summary, Flags: store.DecodeFlags(flags[i])},
			UID: uint32(i + 1), ModSeq: uint64(i + 2)}
		if _, err := old.w.Exec(`INSERT INTO messages(mailbox_id, uid, blob_key, prefix, size, internal_date, flags, seen,
			modseq, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row, m.UID, m.BlobKey, m.Prefix, m.Size,
			m.InternalDate.UnixNano(), flags[i], strings.Contains(flags[i], `\Seen`), m.ModSeq, summary); err != nil {
			t.Fatal(err)
		}
		if _, err := old.w.Exec(`INSERT INTO idempotency(user_id, key, mailbox_id, uid) VALUES (?, ?, ?, ?)`,
			u.ID, fmt.Sprint("k", i), row, m.UID); err != nil {
			t.Fatal(err)
		}
		m.SaveDate = m.InternalDate // unknown: the internal date
		before = append(before, m)
	}
	mbBefore := store.Mailbox{ID: inbox.ID, Name: store.Inbox, Subscribed: true, UIDValidity: 100, UIDNext: 6,
		HighestModSeq: 6, Messages: 5, Unseen: 3, Size: 15, Deleted: 2, Keywords: []string{"$Junk", "Work"}}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := openFile(t, path)
	var ddl string
	if err := db.r.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ddl, "WITHOUT ROWID") {
		t.Fatalf("messages not rebuilt: %s", ddl)
	}
	after, err := db.Messages(ctx, u.ID, inbox.ID, 1, 0, 0)
	ids := map[string]bool{}
	for i := range after {
		if !store.ValidObjectID(after[i].EmailID) || ids[after[i].EmailID] {
			t.Fatalf("message %d: EMAILID %q", after[i].UID, after[i].EmailID)
		}
		ids[after[i].EmailID] = true
		after[i].EmailID = ""
	}
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Fatalf("after migration:\n%+v\nbefore:\n%+v (%v)", after, before, err)
	}
	heads, err := db.MessageHeads(ctx, u.ID, inbox.ID, 1, 0, mbBefore.HighestModSeq-1)
	if err != nil || len(heads) != 1 || heads[0].UID != before[4].UID {
		t.Fatalf("changes since the last modseq: %+v, %v", heads, err)
	}
	// Migration 10: what the mailbox held is not recent, and no expunge
	// from before is remembered.
	if first, last, err := db.ClaimRecent(ctx, u.ID, inbox.ID); err != nil || first != 0 || last != 0 {
		t.Fatalf("ClaimRecent after migration = %d:%d, %v", first, last, err)
	}
	if _, complete, err := db.Vanished(ctx, u.ID, inbox.ID, 1); err != nil || complete {
		t.Fatalf("Vanished(1) after migration: complete %v, %v", complete, err)
	}
	if mb, err := db.Mailbox(ctx, u.ID, "INBOX"); err != nil || !reflect.DeepEqual(mb, mbBefore) {
		t.Fatalf("mailbox %+v, before %+v (%v)", mb, mbBefore, err)
	}
	// Migration 11: the subscription moved to the subscriptions table,
	// and SEARCH MODSEQ finds what changed.
	if subs, err := db.Subscriptions(ctx, u.ID); err != nil || !reflect.DeepEqual(subs, []string{store.Inbox}) {
		t.Fatalf("subscriptions after migration: %q, %v", subs, err)
	}
	if uids, err := db.ModSeqUIDs(ctx, u.ID, inbox.ID, 5); err != nil || !reflect.DeepEqual(uids, []uint32{4, 5}) {
		t.Fatalf("ModSeqUIDs(5) after migration: %v, %v", uids, err)
	}
	if uid, dup, err := db.InsertMessage(ctx, u.ID, inbox.ID, "k3", store.NewMessage{BlobKey: "msg/3", Size: 3}); err != nil || !dup || uid != before[3].UID {
		t.Fatalf("idempotency key after migration: %d %v %v", uid, dup, err)
	}
	if uid := insertOne(t, db, u.ID, inbox.ID); uid != mbBefore.UIDNext {
		t.Fatalf("new UID %d, want UIDNEXT %d", uid, mbBefore.UIDNext)
	}
}

func insertOne(t *testing.T, db *DB, userID, mailboxID string) uint32 {
	t.Helper()
	uid, _, err := db.InsertMessage(context.Background(), userID, mailboxID, "", store.NewMessage{BlobKey: "msg/new", Size: 1, Summary: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

// TestModSeqUIDsPlan checks that SEARCH MODSEQ reads the mod-sequence
// index alone, no message row.
func TestModSeqUIDsPlan(t *testing.T) {
	db := openFile(t, filepath.Join(t.TempDir(), "bucketmail.db"))
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+modSeqUIDsQuery, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "USING COVERING INDEX messages_modseq") {
		t.Fatalf("plan %q, want one search of the covering index messages_modseq", plan)
	}
}
