package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"
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

// writeText writes the text of the entry at rowid.
func (t *txn) writeText(rowid int64, text *store.SearchText) error {
	_, err := t.exec("INSERT OR REPLACE INTO search_text(rowid, head, body) VALUES (?, ?, ?)", rowid, text.Head, text.Body)
	return err
}

// setText writes the text of the existing entry at rowid and marks it.
func (t *txn) setText(rowid int64, text *store.SearchText) error {
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
	if _, err := t.exec("INSERT OR REPLACE INTO search_text(rowid, head, body) SELECT ?, head, body FROM search_text WHERE rowid = ?", to, from); err != nil {
		return err
	}
	_, err = t.exec("UPDATE messages SET search = ? WHERE rowid = ?", state, to)
	return err
}

// SearchText answers BODY and TEXT from search_text. A pattern of three
// characters or more is a phrase of trigrams, which the index answers
// from their positions (a substring match); a shorter one is looked for
// in the stored text of the mailbox's entries. Both are exact on the
// folded text.
func (db *DB) SearchText(ctx context.Context, userID, mailboxID, pattern string, head bool) (hits, unknown []uint32, err error) {
	pattern = strings.ToLower(pattern)
	err = func() error {
		_, id, err := mailboxByID(ctx, db.r, userID, mailboxID)
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
			cond := "instr(s.body, ?) > 0"
			args = []any{id, pattern}
			if head {
				cond = "(instr(s.head, ?) > 0 OR instr(s.body, ?) > 0)"
				args = []any{id, pattern, pattern}
			}
			q = "SELECT m.uid FROM messages m CROSS JOIN search_text s ON s.rowid = m.rowid WHERE m.mailbox_id = ? AND " + cond
		}
		if hits, err = queryUIDs(ctx, db.r, q, args...); err != nil {
			return err
		}
		slices.Sort(hits)
		all, err := queryUIDs(ctx, db.r, "SELECT uid FROM messages INDEXED BY messages_unsearched WHERE mailbox_id = ? AND search != 1 ORDER BY uid", id)
		for _, uid := range all {
			if _, found := slices.BinarySearch(hits, uid); !found {
				unknown = append(unknown, uid)
			}
		}
		return err
	}()
	return hits, unknown, wrap("search text", err)
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
