package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// ChangeSeq returns userID's change counter (0 before its first change).
func (db *DB) ChangeSeq(ctx context.Context, userID string) (uint64, error) {
	n, err := db.changeCounter(ctx, userID)
	return uint64(n), wrap("change seq", err)
}

// ExportUser reads userID's whole index in one read transaction, so the
// snapshot is consistent with its ChangeSeq.
func (db *DB) ExportUser(ctx context.Context, userID string) (*store.UserSnapshot, error) {
	snap := &store.UserSnapshot{Version: store.SnapshotVersion, UserID: userID, Taken: time.Now().UTC()}
	err := db.read(ctx, "export user", func(tx *sql.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(counter), 0) FROM changes WHERE user_id = ?",
			userID).Scan(&seq); err != nil {
			return err
		}
		snap.ChangeSeq = uint64(seq)
		mbs, err := exportMailboxes(ctx, tx, userID)
		if err != nil {
			return err
		}
		snap.Mailboxes = mbs
		if snap.Subscriptions, err = queryStrings(ctx, tx,
			"SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name", userID); err != nil {
			return err
		}
		snap.IdemKeys, err = exportIdemKeys(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func exportMailboxes(ctx context.Context, tx *sql.Tx, userID string) ([]store.MailboxSnapshot, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+mailboxColumns+" FROM mailboxes WHERE user_id = ? ORDER BY name", userID)
	if err != nil {
		return nil, err
	}
	var out []store.MailboxSnapshot
	var ids []int64
	for rows.Next() {
		mb, id, err := scanMailbox(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, store.MailboxSnapshot{Mailbox: mb, Messages: []store.Message{}})
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		base, err := emailBase(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+messageColumns+" FROM messages WHERE mailbox_id = ? ORDER BY uid", id)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			m, err := scanMessage(rows, base)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[i].Messages = append(out[i].Messages, m)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func exportIdemKeys(ctx context.Context, tx *sql.Tx, userID string) (map[string]store.IdemRef, error) {
	rows, err := tx.QueryContext(ctx, "SELECT key, mailbox_id, uid FROM idempotency WHERE user_id = ?", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]store.IdemRef{}
	for rows.Next() {
		var key string
		var mbox int64
		var uid uint32
		if err := rows.Scan(&key, &mbox, &uid); err != nil {
			return nil, err
		}
		out[key] = store.IdemRef{MailboxID: strconv.FormatInt(mbox, 10), UID: uid}
	}
	return out, rows.Err()
}

// ImportUser replaces snap.UserID's index with snap in one transaction.
// Mailboxes keep their names, UIDs, flags and modseqs but get new IDs and a
// UIDVALIDITY greater than both the snapshot's and every value this file
// handed out; the change counter ends above the snapshot's. The references of the replaced entries are dropped without
// scheduling deletes: an entry newer than the snapshot is about to be
// delivered again by reindex, and leaking an object is safer than losing
// one.
func (db *DB) ImportUser(ctx context.Context, snap *store.UserSnapshot) error {
	if err := store.CheckUserSnapshot(snap); err != nil {
		return wrap("import user", err)
	}
	subs, err := store.SnapshotSubscriptions(snap)
	if err != nil {
		return wrap("import user", err)
	}
	return db.mutate(ctx, "import user", snap.UserID, func(t *txn) error {
		old, err := queryStrings(ctx, t.Tx, `SELECT m.blob_key FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
			WHERE b.user_id = ?`, t.userID)
		if err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM mailboxes WHERE user_id = ?", "DELETE FROM idempotency WHERE user_id = ?",
			"DELETE FROM subscriptions WHERE user_id = ?"} {
			if _, err := t.exec(q, t.userID); err != nil {
				return err
			}
		}
		for _, name := range subs {
			if err := t.subscribe(name); err != nil {
				return err
			}
		}
		rowOf := map[string]int64{} // snapshot mailbox ID → new row
		for _, ms := range snap.Mailboxes {
			row, err := t.importMailbox(ms)
			if err != nil {
				return err
			}
			rowOf[ms.Mailbox.ID] = row
		}
		for key, ref := range snap.IdemKeys {
			if _, err := t.exec("INSERT INTO idempotency(user_id, key, mailbox_id, uid) VALUES (?, ?, ?, ?)",
				t.userID, key, rowOf[ref.MailboxID], ref.UID); err != nil {
				return err
			}
		}
		// New references first, so that an object in both old and new
		// never reaches zero on the way.
		if _, err := t.unref(old); err != nil {
			return err
		}
		// The change counter continues after the snapshot's (mutate adds
		// one), so that later snapshots sort after it.
		if _, err := t.exec(`INSERT INTO changes(user_id, counter) VALUES (?, ?)
			ON CONFLICT(user_id) DO UPDATE SET counter = max(counter, excluded.counter)`,
			t.userID, int64(snap.ChangeSeq)); err != nil {
			return err
		}
		t.touch()
		return nil
	})
}

// importMailbox inserts one mailbox of a snapshot with its messages and
// returns its new row id.
func (t *txn) importMailbox(ms store.MailboxSnapshot) (int64, error) {
	name, err := store.CheckMailboxName(ms.Mailbox.Name)
	if err != nil {
		return 0, err
	}
	uidValidity, err := t.uidValidityAbove(ms.Mailbox.UIDValidity)
	if err != nil {
		return 0, err
	}
	uidNext, modseq := max(ms.Mailbox.UIDNext, 1), max(ms.Mailbox.HighestModSeq, 1)
	for _, m := range ms.Messages {
		if m.UID == 0 || m.UID == math.MaxUint32 {
			return 0, errorf(store.ErrInvalid, "mailbox %q: uid %d", name, m.UID)
		}
		uidNext, modseq = max(uidNext, m.UID+1), max(modseq, m.ModSeq)
	}
	// Nothing is recent and no expunge is remembered: the mailbox has a
	// new UIDVALIDITY, and clients resynchronise it from scratch.
	var row int64
	err = t.queryRow(`INSERT INTO mailboxes(user_id, name, special_use, uidvalidity, uidnext, highestmodseq,
		email_base, recent, vanished_floor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.userID, name, ms.Mailbox.SpecialUse, uidValidity, uidNext, modseq,
		newEmailBase(), uidNext-1, modseq).Scan(&row)
	if err != nil {
		return 0, err
	}
	var d delta
	var keys []string
	keywords := store.SnapshotKeywords(ms)
	for _, m := range ms.Messages {
		flags, err := store.NormalizeFlags(m.Flags)
		if err != nil {
			return 0, err
		}
		saved := m.SaveDate
		if saved.IsZero() {
			saved = m.InternalDate
		}
		emailID := m.EmailID
		if !store.ValidObjectID(emailID) {
			emailID = "" // a snapshot from before EMAILIDs: derived from the new email_base
		}
		if err := t.insertRow(row, m.UID, max(m.ModSeq, 1), m.NewMessage, flags, saved, emailID); err != nil {
			return 0, err
		}
		if err := t.ref(m.BlobKey, 1); err != nil {
			return 0, err
		}
		d = d.add(counts(1, m.Size, flags))
		keys = append(keys, m.BlobKey)
	}
	if err := t.forgetDeletes(keys); err != nil {
		return 0, err
	}
	if err := t.setKeywords(row, nil, keywords); err != nil {
		return 0, err
	}
	return row, t.addCounts(row, 0, modseq, d)
}

// uidValidityAbove returns a new UIDVALIDITY greater than floor and than
// every value handed out before (RFC 9051 section 2.3.1.1).
func (t *txn) uidValidityAbove(floor uint32) (uint32, error) {
	if floor == math.MaxUint32 {
		return 0, errorf(store.ErrInvalid, "UIDVALIDITY %d cannot grow", floor)
	}
	v, err := t.nextUIDValidity()
	if err != nil || v > floor {
		return v, err
	}
	_, err = t.exec("UPDATE counters SET value = ? WHERE name = 'uidvalidity'", floor+1)
	return floor + 1, err
}

// forgetDeletes takes keys, referenced again, off the delete schedule.
func (t *txn) forgetDeletes(keys []string) error {
	for _, k := range keys {
		if _, err := t.exec("DELETE FROM blob_deletes WHERE key = ?", k); err != nil {
			return err
		}
	}
	return nil
}

// ExportDirectory reads the whole directory in one read transaction.
func (db *DB) ExportDirectory(ctx context.Context) (*store.DirectorySnapshot, error) {
	snap := &store.DirectorySnapshot{Version: store.SnapshotVersion, Taken: time.Now().UTC(), Aliases: map[string][]string{}}
	err := db.read(ctx, "export directory", func(tx *sql.Tx) error {
		var err error
		if snap.Domains, err = queryStrings(ctx, tx, "SELECT name FROM domains ORDER BY name"); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY address")
		if err != nil {
			return err
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return err
			}
			snap.Users = append(snap.Users, u)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, "SELECT source, target FROM aliases ORDER BY source, target")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s, tg string
			if err := rows.Scan(&s, &tg); err != nil {
				return err
			}
			snap.Aliases[s] = append(snap.Aliases[s], tg)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// ImportDirectory adds what snap has and the directory lacks: domains,
// users (with their IDs and password hashes) and alias targets. Entries
// that conflict with existing ones (an address taken by another user ID or
// by an alias) are left as they are.
func (db *DB) ImportDirectory(ctx context.Context, snap *store.DirectorySnapshot) error {
	if err := store.CheckDirectorySnapshot(snap); err != nil {
		return wrap("import directory", err)
	}
	return db.write(ctx, "import directory", func(tx *sql.Tx) error {
		addDomain := func(d string) error {
			_, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO domains(name) VALUES (?)", store.NormAddress(d))
			return err
		}
		for _, d := range snap.Domains {
			if err := addDomain(d); err != nil {
				return err
			}
		}
		for _, u := range snap.Users {
			if err := importUser(ctx, tx, u, addDomain); err != nil {
				return err
			}
		}
		for source, targets := range snap.Aliases {
			if err := importAlias(ctx, tx, source, targets, addDomain); err != nil {
				return err
			}
		}
		return nil
	})
}

func importUser(ctx context.Context, tx *sql.Tx, u store.User, addDomain func(string) error) error {
	addr, domain, err := store.CheckImportedUser(u)
	if err != nil {
		return err
	}
	taken, err := exists(ctx, tx, "SELECT 1 FROM aliases WHERE source = ?", addr)
	if err != nil || taken {
		return err
	}
	if err := addDomain(domain); err != nil {
		return err
	}
	created := u.Created
	if created.IsZero() {
		created = time.Now()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO users(id, address, domain, password_hash, created, quota) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, u.ID, addr, domain, u.PasswordHash, created.UnixNano(), u.Quota)
	return err
}

func importAlias(ctx context.Context, tx *sql.Tx, source string, targets []string, addDomain func(string) error) error {
	source, domain, err := store.CheckImportedAlias(source)
	if err != nil {
		return err
	}
	taken, err := exists(ctx, tx, "SELECT 1 FROM users WHERE address = ?", source)
	if err != nil || taken {
		return err
	}
	if err := addDomain(domain); err != nil {
		return err
	}
	for _, tg := range targets {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO aliases(source, target, domain) VALUES (?, ?, ?)",
			source, store.NormAddress(tg), domain); err != nil {
			return err
		}
	}
	return nil
}

func exists(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
