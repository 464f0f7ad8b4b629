package sqlite

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// chunk bounds the number of parameters of one IN (...) list.
const chunk = 500

// eachRow runs query (which must end in "uid IN (%s) ORDER BY uid" style,
// with the placeholder list as the last argument) for the sorted, distinct
// uids in chunks, calling fn for every row in UID order.
func (t *txn) eachRow(query string, mailbox int64, uids []uint32, fn func(*sql.Rows) error) error {
	uids = slices.Clone(uids)
	slices.Sort(uids)
	uids = slices.Compact(uids)
	for len(uids) > 0 {
		n := min(len(uids), chunk)
		args := make([]any, 0, n+1)
		args = append(args, mailbox)
		for _, u := range uids[:n] {
			args = append(args, u)
		}
		q := strings.Replace(query, "%s", strings.Repeat(",?", n)[1:], 1)
		if err := t.rows(q, args, fn); err != nil {
			return err
		}
		uids = uids[n:]
	}
	return nil
}

func (t *txn) rows(query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := t.QueryContext(t.ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SetFlags changes the flags of uids and returns the messages whose flags
// changed. HIGHESTMODSEQ moves only if something changed (RFC 7162 section
// 3.1.3).
func (db *DB) SetFlags(ctx context.Context, userID, mailboxID string, uids []uint32, op store.FlagOp, flags []string) ([]store.Message, error) {
	changed, _, err := db.setFlags(ctx, "set flags", userID, mailboxID, uids, op, flags, math.MaxUint64)
	return changed, err
}

// SetFlagsUnchangedSince is SetFlags that leaves alone, and returns, the
// messages changed after unchangedSince (RFC 7162 section 3.1.3).
func (db *DB) SetFlagsUnchangedSince(ctx context.Context, userID, mailboxID string, uids []uint32, op store.FlagOp,
	flags []string, unchangedSince uint64) ([]store.Message, []uint32, error) {
	return db.setFlags(ctx, "set flags unchanged since", userID, mailboxID, uids, op, flags, unchangedSince)
}

func (db *DB) setFlags(ctx context.Context, op string, userID, mailboxID string, uids []uint32, flagOp store.FlagOp,
	flags []string, unchangedSince uint64) ([]store.Message, []uint32, error) {
	flags, err := store.CheckSetFlags(flagOp, flags)
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	// A STORE often asks for flags a message already has (a client
	// marking as read what another device did): a read finds that out
	// first, so such a STORE does not wait in the writer's queue. The
	// write works out the changes again in its own transaction.
	var changed []store.Message
	var failed []uint32
	none := false
	err = db.read(ctx, op, func(tx *sql.Tx) error {
		mb, id, err := mailboxByID(ctx, tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var c []store.Message
		c, failed, _, err = flagChanges(&txn{Tx: tx, ctx: ctx, userID: userID}, mb, id, uids, flagOp, flags, unchangedSince)
		none = len(c) == 0
		return err
	})
	if err != nil || none {
		return nil, failed, err
	}
	err = db.mutate(ctx, op, userID, func(t *txn) error {
		mb, id, err := mailboxByID(ctx, t.Tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var d delta
		changed, failed, d, err = flagChanges(t, mb, id, uids, flagOp, flags, unchangedSince)
		if err != nil || len(changed) == 0 {
			return err
		}
		keywords := mb.Keywords
		if flagOp != store.FlagsRemove {
			if keywords, err = store.AddKeywords(keywords, flags); err != nil {
				return err
			}
		}
		if err := t.setKeywords(id, mb.Keywords, keywords); err != nil {
			return err
		}
		modseq := mb.HighestModSeq + 1
		for _, m := range changed {
			if _, err := t.exec("UPDATE messages SET flags = ?, seen = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?",
				store.EncodeFlags(m.Flags), hasFlag(m.Flags, store.FlagSeen), modseq, id, m.UID); err != nil {
				return err
			}
		}
		t.touch()
		return t.addCounts(id, 0, modseq, d)
	})
	return changed, failed, err
}

// flagChanges works out what SetFlags does to the messages uids of
// mailbox id (mb): the messages whose flags change, with their new flags
// and mod-sequence, those left alone as changed after unchangedSince,
// and the change of the mailbox's counts.
func flagChanges(t *txn, mb store.Mailbox, id int64, uids []uint32, flagOp store.FlagOp, flags []string,
	unchangedSince uint64) (changed []store.Message, failed []uint32, d delta, err error) {
	modseq := mb.HighestModSeq + 1
	err = t.eachRow("SELECT uid, flags, seen, modseq FROM messages WHERE mailbox_id = ? AND uid IN (%s) ORDER BY uid", id, uids,
		func(r *sql.Rows) error {
			var m store.Message
			var cur string
			var wasSeen bool
			var was int64
			if err := r.Scan(&m.UID, &cur, &wasSeen, &was); err != nil {
				return err
			}
			if uint64(was) > unchangedSince {
				failed = append(failed, m.UID)
				return nil
			}
			next := applyFlags(store.DecodeFlags(cur), flagOp, flags)
			if strings.EqualFold(store.EncodeFlags(next), cur) { // keywords are case-insensitive too
				return nil
			}
			switch isSeen := hasFlag(next, store.FlagSeen); {
			case isSeen && !wasSeen:
				d.unseen--
			case !isSeen && wasSeen:
				d.unseen++
			}
			switch was, is := hasFlag(store.DecodeFlags(cur), store.FlagDeleted), hasFlag(next, store.FlagDeleted); {
			case is && !was:
				d.deleted++
			case was && !is:
				d.deleted--
			}
			m.Flags, m.ModSeq = next, modseq
			changed = append(changed, m)
			return nil
		})
	return changed, failed, d, err
}

// gone is a message about to leave a mailbox.
type gone struct {
	uid           uint32
	key           string
	size          int64
	seen, deleted bool
}

// Expunge removes the messages flagged \Deleted (only those among uids
// when uids is not nil).
func (db *DB) Expunge(ctx context.Context, userID, mailboxID string, uids []uint32) ([]uint32, error) {
	var expunged []uint32
	err := db.mutate(ctx, "expunge", userID, func(t *txn) error {
		expunged = nil
		mb, id, err := mailboxByID(ctx, t.Tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var victims []gone
		collect := func(r *sql.Rows) error {
			var g gone
			var flags string
			if err := r.Scan(&g.uid, &g.key, &g.size, &g.seen, &flags); err != nil {
				return err
			}
			if g.deleted = hasFlag(store.DecodeFlags(flags), store.FlagDeleted); g.deleted {
				victims = append(victims, g)
			}
			return nil
		}
		const cols = "SELECT uid, blob_key, size, seen, flags FROM messages WHERE mailbox_id = ?"
		if uids == nil {
			err = t.rows(cols+` AND instr(flags, '\Deleted') > 0 ORDER BY uid`, []any{id}, collect)
		} else {
			err = t.eachRow(cols+" AND uid IN (%s) ORDER BY uid", id, uids, collect)
		}
		if err != nil || len(victims) == 0 {
			return err
		}
		if err := t.remove(id, mb.HighestModSeq+1, victims); err != nil {
			return err
		}
		for _, g := range victims {
			expunged = append(expunged, g.uid)
		}
		return nil
	})
	return expunged, err
}

// remove deletes victims from the mailbox, remembers their UIDs with
// modseq (Vanished), updates its counters and drops their blob
// references, scheduling the objects left without one.
func (t *txn) remove(mailbox int64, modseq uint64, victims []gone) error {
	var d delta
	keys := make([]string, 0, len(victims))
	for _, g := range victims {
		if _, err := t.exec("DELETE FROM messages WHERE mailbox_id = ? AND uid = ?", mailbox, g.uid); err != nil {
			return err
		}
		if _, err := t.exec("INSERT INTO tombstones(mailbox_id, modseq, uid) VALUES (?, ?, ?)", mailbox, modseq, g.uid); err != nil {
			return err
		}
		d.messages--
		d.size -= g.size
		if !g.seen {
			d.unseen--
		}
		if g.deleted {
			d.deleted--
		}
		keys = append(keys, g.key)
	}
	if err := t.addCounts(mailbox, 0, modseq, d); err != nil {
		return err
	}
	if err := t.trimTombstones(mailbox, len(victims)); err != nil {
		return err
	}
	t.touch()
	return t.drop(keys)
}

// trimTombstones counts n new tombstones of mailbox and forgets the oldest
// past store.MaxTombstones, raising vanished_floor to the mod-sequence of
// the newest forgotten.
func (t *txn) trimTombstones(mailbox int64, n int) error {
	var count int
	if err := t.queryRow("UPDATE mailboxes SET tombstones = tombstones + ? WHERE id = ? RETURNING tombstones",
		n, mailbox).Scan(&count); err != nil {
		return err
	}
	over := count - store.MaxTombstones
	if over <= 0 {
		return nil
	}
	var floor int64
	if err := t.queryRow(`SELECT max(modseq) FROM (SELECT modseq FROM tombstones WHERE mailbox_id = ?
		ORDER BY modseq, uid LIMIT ?)`, mailbox, over).Scan(&floor); err != nil {
		return err
	}
	if _, err := t.exec(`DELETE FROM tombstones WHERE mailbox_id = ? AND (modseq, uid) IN
		(SELECT modseq, uid FROM tombstones WHERE mailbox_id = ? ORDER BY modseq, uid LIMIT ?)`, mailbox, mailbox, over); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE mailboxes SET vanished_floor = max(vanished_floor, ?), tombstones = ? WHERE id = ?`,
		floor, store.MaxTombstones, mailbox)
	return err
}

// CopyMessages copies uids from srcID to dstID.
func (db *DB) CopyMessages(ctx context.Context, userID, srcID string, uids []uint32, dstID string) ([]uint32, []uint32, error) {
	return db.transfer(ctx, "copy messages", userID, srcID, uids, dstID, false)
}

// MoveMessages copies uids from srcID to dstID and removes them from srcID,
// atomically.
func (db *DB) MoveMessages(ctx context.Context, userID, srcID string, uids []uint32, dstID string) ([]uint32, []uint32, error) {
	return db.transfer(ctx, "move messages", userID, srcID, uids, dstID, true)
}

func (db *DB) transfer(ctx context.Context, op, userID, srcID string, uids []uint32, dstID string, move bool) ([]uint32, []uint32, error) {
	var src, dst []uint32
	err := db.mutate(ctx, op, userID, func(t *txn) error {
		src, dst = nil, nil
		srcMB, srcRow, err := mailboxByID(ctx, t.Tx, userID, srcID)
		if err != nil {
			return err
		}
		srcBase, err := emailBase(ctx, t.Tx, srcRow)
		if err != nil {
			return err
		}
		var msgs []store.Message
		err = t.eachRow("SELECT "+messageColumns+" FROM messages WHERE mailbox_id = ? AND uid IN (%s) ORDER BY uid", srcRow, uids,
			func(r *sql.Rows) error {
				m, err := scanMessage(r, srcBase)
				msgs = append(msgs, m)
				return err
			})
		if err != nil {
			return err
		}
		// Read the destination after the source: with srcID == dstID
		// both are the same row, and the counters below are relative.
		dstMB, dstRow, err := mailboxByID(ctx, t.Tx, userID, dstID)
		if err != nil || len(msgs) == 0 {
			return err
		}
		keywords := dstMB.Keywords
		for _, m := range msgs {
			if keywords, err = store.AddKeywords(keywords, m.Flags); err != nil {
				return err
			}
		}
		if err := t.setKeywords(dstRow, dstMB.Keywords, keywords); err != nil {
			return err
		}
		modseq := dstMB.HighestModSeq + 1
		now := time.Now()
		var d delta
		var victims []gone
		for i, m := range msgs {
			uid := dstMB.UIDNext + uint32(i)
			if err := t.insertRow(dstRow, uid, modseq, m.NewMessage, m.Flags, now, m.EmailID); err != nil {
				return err
			}
			if err := t.copyText(srcRow, m.UID); err != nil {
				return err
			}
			d = d.add(counts(1, m.Size, m.Flags))
			src, dst = append(src, m.UID), append(dst, uid)
			victims = append(victims, gone{uid: m.UID, key: m.BlobKey, size: m.Size,
				seen: hasFlag(m.Flags, store.FlagSeen), deleted: hasFlag(m.Flags, store.FlagDeleted)})
			if err := t.ref(m.BlobKey, 1); err != nil {
				return err
			}
		}
		if err := t.addCounts(dstRow, uint32(len(msgs)), modseq, d); err != nil {
			return err
		}
		t.touch()
		if !move {
			return nil
		}
		srcModSeq := srcMB.HighestModSeq + 1
		if srcRow == dstRow {
			srcModSeq = modseq + 1
		}
		return t.remove(srcRow, srcModSeq, victims) // the copies hold the references: nothing is scheduled
	})
	return src, dst, err
}
