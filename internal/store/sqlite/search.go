package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bucketmail/bucketmail/internal/store"
)

var _ store.TextStore = (*DB)(nil)

// Values of messages.search.
const (
	searchNone      = 0
	searchWhole     = 1
	searchTruncated = 2
)

func searchState(text *store.SearchText) int {
	switch {
	case text == nil:
		return searchNone
	case text.Truncated:
		return searchTruncated
	}
	return searchWhole
}

// writeText stages the text of the entry at rowid, its body packed
// (textfuncs.go); the mover puts it into search_text with others.
func (t *txn) writeText(rowid int64, text *store.SearchText) error {
	buf := textBufs.Get().(*[]byte)
	defer textBufs.Put(buf)
	*buf = packText((*buf)[:0], text.Body)
	_, err := t.exec("INSERT OR REPLACE INTO search_packed(rowid, head, body) VALUES (?, ?, ?)", rowid, text.Head, *buf)
	if err == nil {
		t.staged++
	}
	return err
}

// setText replaces the text of the existing entry at rowid and marks it.
func (t *txn) setText(rowid int64, text *store.SearchText) error {
	if _, err := t.exec("DELETE FROM search_text WHERE rowid = ?", rowid); err != nil {
		return err
	}
	if err := t.writeText(rowid, text); err != nil {
		return err
	}
	_, err := t.exec("UPDATE messages SET search = ? WHERE rowid = ?", searchState(text), rowid)
	return err
}

// copyText gives the entry just inserted the text of entry uid of the
// mailbox at row src (COPY and MOVE keep the text with the entry).
func (t *txn) copyText(src int64, uid uint32) error {
	var from int64
	var state int
	err := t.queryRow("SELECT rowid, search FROM messages WHERE mailbox_id = ? AND uid = ?", src, uid).Scan(&from, &state)
	if err != nil || state == searchNone {
		return err
	}
	var to int64
	if err := t.queryRow("SELECT last_insert_rowid()").Scan(&to); err != nil {
		return err
	}
	if _, err := t.exec(`INSERT OR REPLACE INTO search_packed(rowid, head, body)
		SELECT ?1, head, staged_pack(body) FROM search_text WHERE rowid = ?2
		UNION ALL SELECT ?1, head, body FROM search_packed WHERE rowid = ?2`, to, from); err != nil {
		return err
	}
	t.staged++
	_, err = t.exec("UPDATE messages SET search = ? WHERE rowid = ?", state, to)
	return err
}

// SearchText answers BODY and TEXT from search_text. A pattern of three
// characters or more is a phrase of trigrams, which the index answers
// from their positions (a substring match); a shorter one is looked for
// in the stored text of the mailbox's entries, as are the staged texts.
// All are exact on the folded text.
func (db *DB) SearchText(ctx context.Context, userID, mailboxID, pattern string, head bool) (hits, unknown []uint32, err error) {
	pattern = strings.ToLower(pattern)
	// ?1 is the pattern, ?2 the mailbox.
	textCond, stagedCond := "text_contains(s.body, ?1)", "staged_contains(s.body, ?1)"
	if head {
		textCond = "(text_contains(s.body, ?1) OR text_contains(s.head, ?1))"
		stagedCond = "(text_contains(s.head, ?1) OR staged_contains(s.body, ?1))"
	}
	// One snapshot: a batch moved from search_packed to search_text
	// between two queries would be in neither.
	err = db.read(ctx, "search text", func(tx *sql.Tx) error {
		hits, unknown = nil, nil
		_, id, err := mailboxByID(ctx, tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var q string
		var args []any
		switch {
		case utf8.RuneCountInString(pattern) >= 3:
			phrase := `"` + strings.ReplaceAll(pattern, `"`, `""`) + `"`
			if !head {
				phrase = "body : " + phrase
			}
			args = []any{phrase, id}
			q = "SELECT m.uid FROM search_text JOIN messages m ON m.rowid = search_text.rowid WHERE search_text MATCH ? AND m.mailbox_id = ?"
		default:
			args = []any{pattern, id}
			q = "SELECT m.uid FROM messages m CROSS JOIN search_text s ON s.rowid = m.rowid WHERE m.mailbox_id = ?2 AND " + textCond
		}
		if hits, err = queryUIDs(ctx, tx, q, args...); err != nil {
			return err
		}
		// The texts not moved into search_text yet (up to maxStaged,
		// while the writer is busy).
		staged, err := queryUIDs(ctx, tx, "SELECT m.uid FROM search_packed s JOIN messages m ON m.rowid = s.rowid WHERE m.mailbox_id = ?2 AND "+stagedCond, pattern, id)
		if err != nil {
			return err
		}
		hits = append(hits, staged...)
		slices.Sort(hits)
		all, err := queryUIDs(ctx, tx, "SELECT uid FROM messages INDEXED BY messages_unsearched WHERE mailbox_id = ? AND search != 1 ORDER BY uid", id)
		for _, uid := range all {
			if _, found := slices.BinarySearch(hits, uid); !found {
				unknown = append(unknown, uid)
			}
		}
		return err
	})
	return hits, unknown, err
}

// TextlessUIDs returns the UIDs of mailboxID's entries without text.
func (db *DB) TextlessUIDs(ctx context.Context, userID, mailboxID string) ([]uint32, error) {
	return db.listUIDs(ctx, "textless uids", userID, mailboxID, " INDEXED BY messages_unsearched", " AND search != 1 AND search = 0")
}

// SetText gives entry uid of mailboxID its text, replacing any.
func (db *DB) SetText(ctx context.Context, userID, mailboxID string, uid uint32, text store.SearchText) error {
	return db.mutate(ctx, "set text", userID, func(t *txn) error {
		_, id, err := mailboxByID(ctx, t.Tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var row int64
		err = t.queryRow("SELECT rowid FROM messages WHERE mailbox_id = ? AND uid = ?", id, uid).Scan(&row)
		if err == sql.ErrNoRows {
			return errorf(store.ErrNotFound, "message %d", uid)
		}
		if err != nil {
			return err
		}
		return t.setText(row, &text)
	})
}

// queryUIDs runs a query that returns UIDs.
func queryUIDs(ctx context.Context, q querier, query string, args ...any) ([]uint32, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return nil, err
		}
		out = append(out, uid)
	}
	return out, rows.Err()
}

// The mover yields to the delivery path. A text is searchable from the
// commit that stages it (SearchText reads search_packed too), so moving
// it into search_text can wait until the writer has nothing else to do:
// the mover looks every moveIdle, and moves only when no transaction but
// its own began since it last looked. It moves moveStep texts per
// transaction (some 0.5 ms of CPU each: a write queued behind a step
// waits about 20 ms at most), and gives the writer back between steps.
// Over maxStaged texts staged it moves even while the writer is busy,
// until the backlog is under the bound again, so a writer that is never
// idle cannot make the backlog, and the scan of it by searches, grow
// without end.
//
// maxStaged keeps a search's scan of the staged texts bounded: it reads
// those of the mailbox (unpacked and matched in Go, textfuncs.go, no
// index), some 4–6 µs of CPU a text of the benchmark corpus (18–28 ms
// for 5,000, against 1–9 ms once they are in search_text;
// benchmarks.md). A lower bound makes that shorter, and moves more of
// the index's cost into long bursts of deliveries.
//
// Only this process's transactions count as busy, and only the texts
// this process staged count toward maxStaged (db.staged, read from the
// table when the mover starts): the texts of another process on the same
// file are moved when this one is idle, or by that process.
const (
	moveStep  = 32
	moveIdle  = 100 * time.Millisecond
	maxStaged = 5000
	// stepGap lets a write that queued during a step begin before the
	// mover looks whether the writer is still idle.
	stepGap = 2 * time.Millisecond
)

func (db *DB) moveIdleEvery() time.Duration {
	if d := db.moveIdle.Load(); d > 0 {
		return time.Duration(d)
	}
	return moveIdle
}

func (db *DB) maxStagedTexts() int64 {
	if n := db.maxStaged.Load(); n > 0 {
		return n
	}
	return maxStaged
}

// mover moves staged texts into search_text when the writer is idle, or
// the backlog is over its bound. It returns when the DB closes.
func (db *DB) mover() {
	defer close(db.moverDone)
	ctx := context.Background()
	var n int64
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM search_packed").Scan(&n); err == nil {
		db.staged.Add(n)
	}
	timer := time.NewTimer(db.moveIdleEvery())
	defer timer.Stop()
	seen, seenAt := db.txns.Load(), time.Now()
	for {
		select {
		case <-db.closed:
			return
		case <-timer.C:
		case <-db.moveNow:
		}
		// Idle: no transaction for a whole interval (a wake by
		// noteStaged may come sooner).
		idle := db.txns.Load() == seen && time.Since(seenAt) >= db.moveIdleEvery() && db.anyStaged(ctx)
		for idle || db.staged.Load() > db.maxStagedTexts() {
			forced := !idle
			start := time.Now()
			n, err := db.moveStaged(ctx, moveStep)
			took := time.Since(start)
			if err != nil || n < moveStep {
				if err == nil {
					// Empty (of what this process counted, at least).
					db.staged.Store(0)
				}
				break
			}
			mine := db.txns.Load()
			// In idle time the mover rests as long as its step took, so
			// that it uses at most half a core: "idle" means no writes,
			// and the reads of the gateways (a POP3 download right after
			// a burst of mail, an IMAP sync) still want the CPU. Over the
			// bound it only lets a queued write in.
			gap := stepGap
			if !forced {
				gap = max(stepGap, took)
			}
			select {
			case <-db.closed:
				return
			case <-time.After(gap):
			}
			idle = db.txns.Load() == mine
		}
		if now := db.txns.Load(); now != seen {
			seen, seenAt = now, time.Now()
		}
		timer.Reset(db.moveIdleEvery())
	}
}

// anyStaged reports whether search_packed has a text (a read: looking
// costs the writer nothing).
func (db *DB) anyStaged(ctx context.Context) bool {
	var any bool
	err := db.r.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM search_packed)").Scan(&any)
	return err != nil || any
}

// noteStaged counts texts staged by a commit, and wakes the mover when
// they are over the bound.
func (db *DB) noteStaged(n int) {
	if n > 0 && db.staged.Add(int64(n)) > db.maxStagedTexts() {
		select {
		case db.moveNow <- struct{}{}:
		default:
		}
	}
}

// IndexStaged moves every text staged so far into search_text now,
// rather than when the mover gets to it (a benchmark that counts the
// indexing its deliveries cost, or the time a backlog takes to drain).
func (db *DB) IndexStaged(ctx context.Context) error {
	for {
		n, err := db.moveStaged(ctx, moveStep)
		if err != nil || n == 0 {
			return err
		}
	}
}

// SearchBacklog returns how many texts are staged and not yet in
// search_text (as this process counts them; see mover), and the internal
// date of the oldest (zero without any): the index lag.
func (db *DB) SearchBacklog(ctx context.Context) (n int64, oldest time.Time, err error) {
	var date sql.NullInt64
	err = db.r.QueryRowContext(ctx, `SELECT m.internal_date FROM messages m
		WHERE m.rowid = (SELECT min(rowid) FROM search_packed)`).Scan(&date)
	if err == sql.ErrNoRows {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, wrap("search backlog", err)
	}
	if date.Valid {
		oldest = time.Unix(0, date.Int64)
	}
	return max(db.staged.Load(), 1), oldest, nil
}

// ftsAutomerge is the FTS5 automerge setting of search_text: merge
// segments when 16 of a level exist, not 4 (the default). Writing the
// trigram index then costs about a third less CPU (some 0.5 ms against
// 0.77 ms per 4.3 KB text, 10,240 texts in batches of 512; a search of a
// common word 2.5–3.3 ms against 2.7–3.0 ms, of a rare one 0.55–0.64 ms
// against 0.37–0.41 ms): searches read a few more segments, deliveries
// rewrite less of the index. Above 16 FTS5's crisis merges take over and
// nothing more is saved.
const ftsAutomerge = 16

// setAutomerge sets ftsAutomerge (kept in search_text_config, so the
// tables of older databases get it too), unless it is set already.
func setAutomerge(ctx context.Context, tx *sql.Tx) error {
	var v sql.NullInt64
	err := tx.QueryRowContext(ctx, "SELECT v FROM search_text_config WHERE k = 'automerge'").Scan(&v)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	if v.Valid && v.Int64 == ftsAutomerge {
		return nil
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO search_text(search_text, rank) VALUES ('automerge', ?)", ftsAutomerge)
	return err
}

// moveStaged moves up to limit staged texts, oldest first, in one
// transaction, and returns how many.
func (db *DB) moveStaged(ctx context.Context, limit int) (int, error) {
	var n int
	err := db.write(ctx, "index staged text", func(tx *sql.Tx) error {
		n = 0
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT max(rowid), count(*) FROM (SELECT rowid FROM search_packed ORDER BY rowid LIMIT ?)", limit).Scan(&last, &n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if err := setAutomerge(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO search_text(rowid, head, body) SELECT rowid, head, staged_body(body) FROM search_packed WHERE rowid <= ?", last.Int64); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM search_packed WHERE rowid <= ?", last.Int64)
		return err
	})
	if err == nil && n > 0 {
		db.staged.Add(-int64(n))
	}
	return n, err
}
