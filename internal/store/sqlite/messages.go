package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// InsertMessage adds m to mailboxID with the next UID; idemKey makes it
// idempotent (invariant 3): the key is recorded in the same transaction.
func (db *DB) InsertMessage(ctx context.Context, userID, mailboxID, idemKey string, m store.NewMessage) (uint32, bool, error) {
	var uid uint32
	var dup bool
	m.IdemKey = idemKey
	uids, err := db.insert(ctx, "insert message", userID, mailboxID, []store.NewMessage{m}, func(t *txn) (bool, error) {
		uid, dup = 0, false // fn may run again after SQLITE_BUSY
		if idemKey == "" {
			return false, nil
		}
		err := t.queryRow("SELECT uid FROM idempotency WHERE user_id = ? AND key = ?", userID, idemKey).Scan(&uid)
		if err == nil {
			dup = true
			return true, nil
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
		return false, err
	})
	if err != nil {
		return 0, false, err
	}
	if !dup {
		uid = uids[0]
	}
	return uid, dup, nil
}

// InsertMessages adds ms to mailboxID with the next UIDs in one
// transaction (MULTIAPPEND, RFC 3502), with their idempotency keys.
func (db *DB) InsertMessages(ctx context.Context, userID, mailboxID string, ms []store.NewMessage) ([]uint32, error) {
	if err := store.CheckIdemKeys(ms); err != nil {
		return nil, wrap("insert messages", err)
	}
	return db.insert(ctx, "insert messages", userID, mailboxID, ms, func(t *txn) (bool, error) {
		for _, m := range ms {
			if m.IdemKey == "" {
				continue
			}
			var uid uint32
			err := t.queryRow("SELECT uid FROM idempotency WHERE user_id = ? AND key = ?", userID, m.IdemKey).Scan(&uid)
			if err == nil {
				return false, errorf(store.ErrExists, "idempotency key %q", m.IdemKey)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return false, err
			}
		}
		return false, nil
	})
}

// insert adds ms to mailboxID in one transaction, with their idempotency
// keys (NewMessage.IdemKey), unless dup (which may be nil) finds that
// one was used before.
func (db *DB) insert(ctx context.Context, op, userID, mailboxID string, ms []store.NewMessage, dup func(*txn) (bool, error)) ([]uint32, error) {
	ms = slices.Clone(ms)
	flags := make([][]string, len(ms))
	for i := range ms {
		err := store.CheckNewMessage(ms[i])
		if err == nil {
			flags[i], err = store.NormalizeFlags(ms[i].Flags)
		}
		if err != nil {
			return nil, wrap(op, err)
		}
		if ms[i].InternalDate.IsZero() {
			ms[i].InternalDate = time.Now() // IMAP needs one (RFC 9051 section 2.3.3)
		}
	}
	var uids []uint32
	err := db.mutate(ctx, op, userID, func(t *txn) error {
		uids = nil // fn may run again after SQLITE_BUSY
		if dup != nil {
			if found, err := dup(t); found || err != nil {
				return err
			}
		}
		mb, id, err := mailboxByID(ctx, t.Tx, userID, mailboxID)
		if err != nil || len(ms) == 0 {
			return err
		}
		keywords := mb.Keywords
		for _, f := range flags {
			if keywords, err = store.AddKeywords(keywords, f); err != nil {
				return err
			}
		}
		modseq := mb.HighestModSeq + 1
		now := time.Now()
		var d delta
		for i, m := range ms {
			uid := mb.UIDNext + uint32(i)
			if err := t.insertRow(id, uid, modseq, m, flags[i], now, ""); err != nil {
				return err
			}
			if err := t.ref(m.BlobKey, 1); err != nil {
				return err
			}
			d = d.add(counts(1, m.Size, flags[i]))
			uids = append(uids, uid)
		}
		if err := t.addCounts(id, uint32(len(ms)), modseq, d); err != nil {
			return err
		}
		if err := t.setKeywords(id, mb.Keywords, keywords); err != nil {
			return err
		}
		for i, m := range ms {
			if m.IdemKey == "" {
				continue
			}
			if _, err := t.exec("INSERT INTO idempotency(user_id, key, mailbox_id, uid) VALUES (?, ?, ?, ?)",
				userID, m.IdemKey, id, uids[i]); err != nil {
				return err
			}
		}
		t.touch()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return uids, nil
}

// setKeywords stores a mailbox's keywords if they changed from old.
func (t *txn) setKeywords(mailbox int64, old, keywords []string) error {
	if len(keywords) == len(old) {
		return nil // AddKeywords only appends
	}
	_, err := t.exec("UPDATE mailboxes SET keywords = ? WHERE id = ?", store.EncodeFlags(keywords), mailbox)
	return err
}

// insertRow writes one entry; emailID "" leaves its EMAILID to be derived
// from the mailbox's email_base (store.EmailIDOf).
func (t *txn) insertRow(mailbox int64, uid uint32, modseq uint64, m store.NewMessage, flags []string, saved time.Time, emailID string) error {
	prefix, summary := m.Prefix, m.Summary
	if prefix == nil {
		prefix = []byte{}
	}
	if summary == nil {
		summary = []byte{}
	}
	args := []any{mailbox, uid, m.BlobKey, prefix, m.Size, m.InternalDate.UnixNano(), store.EncodeFlags(flags),
		hasFlag(flags, store.FlagSeen), modseq, summary, saved.UnixNano(), emailID}
	if m.Text == nil {
		_, err := t.exec(`INSERT INTO messages(mailbox_id, uid, blob_key, prefix, size, internal_date, flags, seen, modseq, summary, save_date, email_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	}
	res, err := t.exec(`INSERT INTO messages(mailbox_id, uid, blob_key, prefix, size, internal_date, flags, seen, modseq, summary, save_date, email_id, search)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, searchState(m.Text))...)
	if err != nil {
		return err
	}
	row, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return t.writeText(row, m.Text)
}

// delta is a change of a mailbox's counters.
type delta struct{ messages, unseen, deleted, size int64 }

func counts(n, size int64, flags []string) delta {
	d := delta{messages: n, size: size}
	if !hasFlag(flags, store.FlagSeen) {
		d.unseen = n
	}
	if hasFlag(flags, store.FlagDeleted) {
		d.deleted = n
	}
	return d
}

func (d delta) add(e delta) delta {
	return delta{d.messages + e.messages, d.unseen + e.unseen, d.deleted + e.deleted, d.size + e.size}
}

// addCounts applies d to the mailbox, advances UIDNEXT by uids and sets
// HIGHESTMODSEQ to modseq.
func (t *txn) addCounts(mailbox int64, uids uint32, modseq uint64, d delta) error {
	_, err := t.exec(`UPDATE mailboxes SET uidnext = uidnext + ?, highestmodseq = ?,
		messages = messages + ?, unseen = unseen + ?, deleted = deleted + ?, size = size + ? WHERE id = ?`,
		uids, modseq, d.messages, d.unseen, d.deleted, d.size, mailbox)
	return err
}

// ref adds n references to a blob.
func (t *txn) ref(key string, n int) error {
	_, err := t.exec(`INSERT INTO blobs(key, refs) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET refs = refs + excluded.refs`, key, n)
	return err
}

// drop drops one reference per entry of keys and schedules the deletion of
// the objects left without one (store.Mailboxes), in this transaction.
func (t *txn) drop(keys []string) error {
	orphans, err := t.unref(keys)
	if err != nil {
		return err
	}
	return t.schedule(orphans, time.Now())
}

// schedule records keys for deletion at or after at; a key scheduled
// twice keeps the later time.
func (t *txn) schedule(keys []string, at time.Time) error {
	for _, k := range keys {
		if _, err := t.exec(`INSERT INTO blob_deletes(key, at) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET at = max(at, excluded.at)`, k, at.UnixNano()); err != nil {
			return err
		}
	}
	return nil
}

// unref drops one reference per entry of keys and returns the keys that
// have none left, sorted. Only ImportUser calls it directly: everything
// else drops references with drop, which schedules the orphans.
func (t *txn) unref(keys []string) ([]string, error) {
	n := map[string]int{}
	for _, k := range keys {
		n[k]++
	}
	var orphans []string
	for k, c := range n {
		var refs int64
		err := t.queryRow("UPDATE blobs SET refs = refs - ? WHERE key = ? RETURNING refs", c, k).Scan(&refs)
		if errors.Is(err, sql.ErrNoRows) {
			refs, err = 0, nil // not counted (should not happen): the entry was its only user
		}
		if err != nil {
			return nil, err
		}
		if refs <= 0 {
			if _, err := t.exec("DELETE FROM blobs WHERE key = ?", k); err != nil {
				return nil, err
			}
			orphans = append(orphans, k)
		}
	}
	slices.Sort(orphans)
	return orphans, nil
}

const (
	headColumns    = `uid, blob_key, size, internal_date, flags, modseq, save_date, email_id`
	messageColumns = headColumns + `, prefix, summary`
)

// scanMessage scans messageColumns of a mailbox whose email_base is base.
func scanMessage(s scanner, base string) (store.Message, error) { return scanColumns(s, base, true) }

// scanColumns scans headColumns, and the prefix and summary too if full.
func scanColumns(s scanner, base string, full bool) (store.Message, error) {
	var m store.Message
	var date, saved int64
	var flags string
	dest := []any{&m.UID, &m.BlobKey, &m.Size, &date, &flags, &m.ModSeq, &saved, &m.EmailID}
	if full {
		dest = append(dest, &m.Prefix, &m.Summary)
	}
	err := s.Scan(dest...)
	m.InternalDate = time.Unix(0, date).UTC()
	m.SaveDate = m.InternalDate
	if saved != 0 {
		m.SaveDate = time.Unix(saved/1e9, 0).UTC()
	}
	if m.EmailID == "" {
		m.EmailID = store.EmailIDOf(base, m.UID)
	}
	m.Flags = store.DecodeFlags(flags)
	return m, err
}

// emailBase returns the email_base of mailbox row id.
func emailBase(ctx context.Context, q querier, id int64) (string, error) {
	var base string
	err := q.QueryRowContext(ctx, "SELECT email_base FROM mailboxes WHERE id = ?", id).Scan(&base)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil // deleted meanwhile: it lists as empty
	}
	return base, err
}

// Messages returns the messages of mailboxID with first <= UID <= last
// (no upper bound when last is 0) and ModSeq > changedSince, in UID order.
func (db *DB) Messages(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	return db.listMessages(ctx, "messages", userID, mailboxID, first, last, changedSince, true)
}

// MessageHeads is Messages without prefixes and summaries, the bulk of a
// row, from the narrow covering index messages_heads.
func (db *DB) MessageHeads(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	return db.listMessages(ctx, "message heads", userID, mailboxID, first, last, changedSince, false)
}

func (db *DB) listMessages(ctx context.Context, op, userID, mailboxID string, first, last uint32, changedSince uint64, withSummary bool) ([]store.Message, error) {
	upper := int64(last)
	if last == 0 {
		upper = 1 << 32
	}
	var out []store.Message
	columns := messageColumns
	if !withSummary {
		columns = headColumns
	}
	// Two statements outside a transaction: a mailbox deleted in between
	// lists as empty, as it would a moment later.
	err := func() error {
		_, id, err := mailboxByID(ctx, db.r, userID, mailboxID)
		if err != nil {
			return err
		}
		base, err := emailBase(ctx, db.r, id)
		if err != nil {
			return err
		}
		// What changed since a mod-sequence is found through its index
		// (few rows); the planner would otherwise walk the UID range,
		// every row with its summary.
		// Heads come from their covering index: a row with its summary
		// spills into an overflow page of its own, which a listing would
		// otherwise read for every message.
		from := " FROM messages"
		switch {
		case changedSince > 0:
			from = " FROM messages INDEXED BY messages_modseq"
		case !withSummary:
			from = " FROM messages INDEXED BY messages_heads"
		}
		rows, err := db.r.QueryContext(ctx, "SELECT "+columns+from+`
			WHERE mailbox_id = ? AND uid >= ? AND uid <= ? AND modseq > ? ORDER BY uid`,
			id, first, upper, int64(changedSince))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanColumns(rows, base, withSummary)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	}()
	return out, wrap(op, err)
}

// SeenUIDs returns the UIDs with or without \Seen, from messages_uid.
func (db *DB) SeenUIDs(ctx context.Context, userID, mailboxID string, seen bool) ([]uint32, error) {
	want := 0
	if seen {
		want = 1
	}
	return db.listUIDs(ctx, "seen uids", userID, mailboxID, " INDEXED BY messages_uid", " AND seen = ?", want)
}

// UIDs returns all UIDs of mailboxID in ascending order.
func (db *DB) UIDs(ctx context.Context, userID, mailboxID string) ([]uint32, error) {
	return db.listUIDs(ctx, "uids", userID, mailboxID, "", "")
}

// listUIDs returns the UIDs of mailboxID's messages that match the extra
// condition and, in ascending order; two statements outside a transaction,
// as listMessages.
func (db *DB) listUIDs(ctx context.Context, op, userID, mailboxID, index, and string, args ...any) ([]uint32, error) {
	out := []uint32{}
	err := func() error {
		_, id, err := mailboxByID(ctx, db.r, userID, mailboxID)
		if err != nil {
			return err
		}
		uids, err := queryUIDs(ctx, db.r, "SELECT uid FROM messages"+index+" WHERE mailbox_id = ?"+and+" ORDER BY uid",
			append([]any{id}, args...)...)
		out = append(out, uids...)
		return err
	}()
	return out, wrap(op, err)
}
