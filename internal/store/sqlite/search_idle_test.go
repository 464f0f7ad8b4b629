package sqlite

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/search/searchtest"
	"github.com/bucketmail/bucketmail/internal/store"
)

// idleUser makes a user and returns its ID and INBOX's.
func idleUser(t *testing.T, db *DB) (string, string) {
	t.Helper()
	ctx := t.Context()
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
	return u.ID, inbox.ID
}

// stageTexts delivers n entries with a text each: "word<i> common".
func stageTexts(t *testing.T, db *DB, user, mailbox string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		text := &store.SearchText{Head: "subject", Body: fmt.Sprintf("word%05d common text", i)}
		if _, _, err := db.InsertMessage(t.Context(), user, mailbox, fmt.Sprint("k", i),
			store.NewMessage{BlobKey: fmt.Sprint("msg/", i), Size: 1, Summary: []byte("{}"), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
}

func stagedCount(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.r.QueryRowContext(t.Context(), "SELECT count(*) FROM search_packed").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitStaged polls until cond holds of the staged count (60 s at most).
func waitStaged(t *testing.T, db *DB, what string, cond func(int) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := stagedCount(t, db)
		if cond(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d texts staged", what, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkFound: every one of the n texts is found, by a word of its own
// and by the common one, and none is left to a scan.
func checkFound(t *testing.T, db *DB, user, mailbox string, n int) {
	t.Helper()
	ctx := t.Context()
	for _, i := range []int{0, n / 2, n - 1} {
		hits, unknown, err := db.SearchText(ctx, user, mailbox, fmt.Sprintf("WORD%05d", i), false)
		if err != nil || len(hits) != 1 || len(unknown) != 0 {
			t.Fatalf("search word%05d: hits %v unknown %v, %v", i, hits, unknown, err)
		}
	}
	hits, unknown, err := db.SearchText(ctx, user, mailbox, "common", false)
	if err != nil || len(hits) != n || len(unknown) != 0 {
		t.Fatalf("search common: %d hits, unknown %v, %v; want %d", len(hits), unknown, err, n)
	}
	hits, _, err = db.SearchText(ctx, user, mailbox, "subject", false)
	if err != nil || len(hits) != 0 {
		t.Fatalf("BODY subject: hits %v, %v; want none (head only)", hits, err)
	}
}

// TestSearchStagedUntilIdle: texts staged while the mover does not get
// to look (an interval it never reaches) stay staged and are found; once
// it looks and the writer is idle, the backlog drains to nothing, and
// SearchBacklog says so.
func TestSearchStagedUntilIdle(t *testing.T) {
	db := openTemp(t)
	db.moveIdle.Store(int64(time.Hour))
	user, inbox := idleUser(t, db)
	const n = 200
	stageTexts(t, db, user, inbox, 0, n)
	if got := stagedCount(t, db); got != n {
		t.Fatalf("%d texts staged, want %d", got, n)
	}
	backlog, oldest, err := db.SearchBacklog(t.Context())
	if err != nil || backlog != n || oldest.IsZero() || time.Since(oldest) > time.Hour {
		t.Fatalf("backlog %d, oldest %v, %v; want %d, just now", backlog, oldest, err, n)
	}
	checkFound(t, db, user, inbox, n)

	db.moveIdle.Store(int64(10 * time.Millisecond))
	db.moveNow <- struct{}{} // the timer set to an hour: look now
	waitStaged(t, db, "idle", func(n int) bool { return n == 0 })
	checkFound(t, db, user, inbox, n)
	backlog, oldest, err = db.SearchBacklog(t.Context())
	if err != nil || backlog != 0 || !oldest.IsZero() {
		t.Fatalf("backlog %d, oldest %v, %v after draining", backlog, oldest, err)
	}
}

// TestSearchStagedBound: a writer the mover never sees idle (it looks
// only when a commit takes the backlog over maxStaged, never on its
// timer, and a commit has always come between two looks) still gets the
// backlog moved down to the bound (or further, if the writer is idle
// between two steps), and the texts are found throughout; once it looks
// on its timer again, the rest drains.
func TestSearchStagedBound(t *testing.T) {
	db := openTemp(t)
	db.moveIdle.Store(int64(time.Hour))
	const bound = 64
	db.maxStaged.Store(bound)
	user, inbox := idleUser(t, db)
	const n = 300
	stageTexts(t, db, user, inbox, 0, n)
	waitStaged(t, db, "over the bound", func(n int) bool { return n <= bound })
	checkFound(t, db, user, inbox, n)
	db.moveIdle.Store(int64(10 * time.Millisecond))
	db.moveNow <- struct{}{}
	waitStaged(t, db, "idle", func(n int) bool { return n == 0 })
	checkFound(t, db, user, inbox, n)
}

// TestSearchStagedRestart: a process that stops (or crashes) with texts
// staged leaves them found after a restart, which moves them.
func TestSearchStagedRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bucketmail.db")
	db := openFile(t, path)
	db.moveIdle.Store(int64(time.Hour))
	user, inbox := idleUser(t, db)
	const n = 100
	stageTexts(t, db, user, inbox, 0, n)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openFile(t, path)
	db.moveIdle.Store(int64(time.Hour))
	checkFound(t, db, user, inbox, n)
	if got := stagedCount(t, db); got != n {
		t.Fatalf("%d texts staged after the restart, want %d", got, n)
	}
	db.moveIdle.Store(int64(10 * time.Millisecond))
	db.moveNow <- struct{}{}
	waitStaged(t, db, "after the restart", func(n int) bool { return n == 0 })
	checkFound(t, db, user, inbox, n)
}

// BenchmarkSearchStagedBacklog: SEARCH BODY of the rare and the common
// word of the benchmark corpus in a mailbox of maxStaged messages whose
// texts are all staged (the most the mover lets wait while the writer is
// busy), and then with all of them moved into search_text.
func BenchmarkSearchStagedBacklog(b *testing.B) {
	ctx := b.Context()
	db := openTemp(b)
	db.moveIdle.Store(int64(time.Hour))
	db.maxStaged.Store(1 << 40)
	if err := db.AddDomain(ctx, "example.org"); err != nil {
		b.Fatal(err)
	}
	u, err := db.AddUser(ctx, "alice@example.org", "x")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		b.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, store.Inbox)
	if err != nil {
		b.Fatal(err)
	}
	const n = maxStaged
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < n; i += 8 {
				t := message.ExtractTextBytes([]byte(searchtest.Corpus(i)), message.IndexLimits)
				text := &store.SearchText{Head: t.Head, Body: t.Body, Truncated: t.Truncated}
				if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, fmt.Sprint("k", i),
					store.NewMessage{BlobKey: fmt.Sprint("msg/", i), Size: 1, Summary: []byte("{}"), Text: text}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, moved := range []bool{false, true} {
		if moved {
			if err := db.IndexStaged(ctx); err != nil {
				b.Fatal(err)
			}
		}
		var staged int
		if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM search_packed").Scan(&staged); err != nil {
			b.Fatal(err)
		}
		for _, word := range []string{searchtest.RareWord, searchtest.CommonWord} {
			b.Run(fmt.Sprintf("staged=%d/%s", staged, word), func(b *testing.B) {
				var took []time.Duration
				cpu := cpuTime()
				for b.Loop() {
					start := time.Now()
					hits, unknown, err := db.SearchText(ctx, u.ID, inbox.ID, word, false)
					if err != nil || len(hits) == 0 || len(unknown) != 0 {
						b.Fatalf("%d hits, %d unknown, %v", len(hits), len(unknown), err)
					}
					took = append(took, time.Since(start))
				}
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			})
		}
	}
}

// TestMigrateStagedPacked: texts staged by a program before migration 12
// (bodies as TEXT, in search_staged) are packed by it into search_packed,
// found while staged, and moved; a process still running the old schema
// can no longer stage.
func TestMigrateStagedPacked(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bucketmail.db")
	old, err := openAt(path, 11)
	if err != nil {
		t.Fatal(err)
	}
	old.moveIdle.Store(int64(time.Hour))
	user, inbox := idleUser(t, old)
	const n = 50
	for i := range n {
		// The rows as version 11 wrote them (this program writes only
		// the newest schema).
		var row int64
		if err := old.w.QueryRowContext(ctx, `INSERT INTO messages(mailbox_id, uid, blob_key, prefix, size, internal_date,
			flags, seen, modseq, summary, search) VALUES (?, ?, ?, x'', 1, 0, '', 0, ?, '{}', 1) RETURNING rowid`,
			inbox, i+1, fmt.Sprint("msg/", i), i+2).Scan(&row); err != nil {
			t.Fatal(err)
		}
		if _, err := old.w.ExecContext(ctx, "INSERT INTO search_staged(rowid, head, body) VALUES (?, 'subject', ?)",
			row, fmt.Sprintf("word%05d common text", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.w.ExecContext(ctx, "UPDATE mailboxes SET uidnext = ?, messages = ? WHERE id = ?", n+1, n, inbox); err != nil {
		t.Fatal(err)
	}

	db := openFile(t, path) // migrates while old still runs
	db.moveIdle.Store(int64(time.Hour))
	// A process that opened the file before the migration fails on the
	// staged table it knows (a temporary error: the delivery is retried),
	// rather than staging an unpacked text or moving packed ones as text.
	if _, err := old.w.ExecContext(ctx, "INSERT OR REPLACE INTO search_staged(rowid, head, body) VALUES (?, ?, ?)", 1, "h", "b"); err == nil {
		t.Fatal("a process of the old schema staged a text after the migration")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	var blobs int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM search_packed WHERE typeof(body) = 'blob'").Scan(&blobs); err != nil {
		t.Fatal(err)
	}
	if blobs != n {
		t.Fatalf("%d of %d staged bodies packed", blobs, n)
	}
	checkFound(t, db, user, inbox, n)
	if err := db.IndexStaged(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stagedCount(t, db); got != 0 {
		t.Fatalf("%d texts staged after IndexStaged", got)
	}
	checkFound(t, db, user, inbox, n)
	// The trigger is back: an expunged entry's text goes.
	if _, err := db.w.ExecContext(ctx, "DELETE FROM messages WHERE mailbox_id = ? AND uid = 1", inbox); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM search_text").Scan(&left); err != nil || left != n-1 {
		t.Fatalf("%d texts indexed after deleting an entry, want %d (%v)", left, n-1, err)
	}
}

// cpuTime is the CPU time the process has used, in nanoseconds (user and
// system, every goroutine): on a machine other work keeps busy it varies
// far less than the elapsed time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
