package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/bucketmail/bucketmail/internal/store"
)

// CountRecent counts the messages above the mailbox's \Recent mark in one
// read, through messages_uid (a mailbox's UIDs in order).
func (db *DB) CountRecent(ctx context.Context, userID, mailboxID string) (uint32, error) {
	id, err := strconv.ParseInt(mailboxID, 10, 64)
	if err != nil {
		return 0, wrap("count recent", errorf(store.ErrNotFound, "mailbox id %q", mailboxID))
	}
	var n uint32
	err = db.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM messages WHERE mailbox_id = m.id AND uid > m.recent)
		FROM mailboxes m WHERE m.user_id = ? AND m.id = ?`, userID, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = errorf(store.ErrNotFound, "mailbox id %q", mailboxID)
	}
	return n, wrap("count recent", err)
}
