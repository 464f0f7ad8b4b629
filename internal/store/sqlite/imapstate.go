package sqlite

import (
	"context"
	"database/sql"
	"math"
	"slices"

	"github.com/bucketmail/bucketmail/internal/store"
)

// ClaimRecent returns the UIDs above the mailbox's recent mark and moves
// the mark to UIDNEXT-1, in one write transaction. Most SELECTs find
// nothing new: a read says so first, without waiting in the writer's
// queue behind deliveries (the write checks again). The write is lazy
// (commit.go): it waits for no fsync, and a power failure may take a
// claim back, which then only shows a message \Recent again to a session
// after the restart (every session that saw it ended with the failure).
func (db *DB) ClaimRecent(ctx context.Context, userID, mailboxID string) (first, last uint32, err error) {
	fresh := false
	err = db.read(ctx, "claim recent", func(tx *sql.Tx) error {
		mb, id, err := mailboxByID(ctx, tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var mark uint32
		if err := tx.QueryRowContext(ctx, "SELECT recent FROM mailboxes WHERE id = ?", id).Scan(&mark); err != nil {
			return err
		}
		fresh = mark+1 < mb.UIDNext
		return nil
	})
	if err != nil || !fresh {
		return 0, 0, err
	}
	err = db.writeLazy(ctx, "claim recent", func(tx *sql.Tx) error {
		t := &txn{Tx: tx, ctx: ctx, userID: userID}
		first, last = 0, 0
		mb, id, err := mailboxByID(ctx, tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var mark uint32
		if err := t.queryRow("SELECT recent FROM mailboxes WHERE id = ?", id).Scan(&mark); err != nil {
			return err
		}
		if mark+1 >= mb.UIDNext {
			return nil
		}
		first, last = mark+1, mb.UIDNext-1
		_, err = t.exec("UPDATE mailboxes SET recent = ? WHERE id = ?", last, id)
		return err
	})
	return first, last, err
}

// Vanished returns the remembered UIDs expunged after sinceModSeq, read
// in one transaction with the floor below which they are forgotten.
func (db *DB) Vanished(ctx context.Context, userID, mailboxID string, sinceModSeq uint64) ([]uint32, bool, error) {
	out := []uint32{}
	complete := false
	err := db.read(ctx, "vanished", func(tx *sql.Tx) error {
		_, id, err := mailboxByID(ctx, tx, userID, mailboxID)
		if err != nil {
			return err
		}
		var floor uint64
		if err := tx.QueryRowContext(ctx, "SELECT vanished_floor FROM mailboxes WHERE id = ?", id).Scan(&floor); err != nil {
			return err
		}
		complete = sinceModSeq >= floor
		uids, err := queryUIDs(ctx, tx, "SELECT uid FROM tombstones WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
			id, int64(min(sinceModSeq, 1<<63-1)))
		out = append(out, uids...)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, complete, nil
}

// modSeqUIDsQuery reads the UIDs of mailbox ?1 with modseq >= ?2 from
// the messages_modseq index alone (TestModSeqUIDsPlan).
const modSeqUIDsQuery = "SELECT uid FROM messages INDEXED BY messages_modseq WHERE mailbox_id = ? AND modseq >= ?"

// ModSeqUIDs reads the UIDs changed at or after modSeq from the
// messages_modseq index, which carries them.
func (db *DB) ModSeqUIDs(ctx context.Context, userID, mailboxID string, modSeq uint64) ([]uint32, error) {
	out := []uint32{}
	err := db.read(ctx, "modseq uids", func(tx *sql.Tx) error {
		_, id, err := mailboxByID(ctx, tx, userID, mailboxID)
		if err != nil || modSeq > math.MaxInt64 {
			return err // no mod-sequence is that large
		}
		uids, err := queryUIDs(ctx, tx, modSeqUIDsQuery, id, int64(modSeq))
		out = append(out, uids...)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

var _ store.Mailboxes = (*DB)(nil)
