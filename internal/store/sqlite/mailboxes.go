package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// mailboxColumns are read FROM mailboxes (not aliased).
const mailboxColumns = `id, name, special_use,
	EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = mailboxes.user_id AND s.name = mailboxes.name),
	uidvalidity, uidnext, highestmodseq, messages, unseen, size, deleted, keywords`

func scanMailbox(s scanner) (store.Mailbox, int64, error) {
	var mb store.Mailbox
	var id int64
	var keywords string
	err := s.Scan(&id, &mb.Name, &mb.SpecialUse, &mb.Subscribed, &mb.UIDValidity, &mb.UIDNext,
		&mb.HighestModSeq, &mb.Messages, &mb.Unseen, &mb.Size, &mb.Deleted, &keywords)
	mb.ID = strconv.FormatInt(id, 10)
	mb.Keywords = store.DecodeFlags(keywords)
	return mb, id, err
}

// mailboxByName returns userID's mailbox name (already canonical).
func mailboxByName(ctx context.Context, q querier, userID, name string) (store.Mailbox, int64, error) {
	row := q.QueryRowContext(ctx, "SELECT "+mailboxColumns+" FROM mailboxes WHERE user_id = ? AND name = ?", userID, name)
	mb, id, err := scanMailbox(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errorf(store.ErrNotFound, "mailbox %q", name)
	}
	return mb, id, err
}

// mailboxByID returns the mailbox with the opaque id, if it belongs to
// userID (invariant 6: another user's ID is simply not found).
func mailboxByID(ctx context.Context, q querier, userID, id string) (store.Mailbox, int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return store.Mailbox{}, 0, errorf(store.ErrNotFound, "mailbox id %q", id)
	}
	row := q.QueryRowContext(ctx, "SELECT "+mailboxColumns+" FROM mailboxes WHERE user_id = ? AND id = ?", userID, n)
	mb, n, err := scanMailbox(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errorf(store.ErrNotFound, "mailbox id %q", id)
	}
	return mb, n, err
}

// EnsureUser creates the default mailboxes of userID that do not exist.
func (db *DB) EnsureUser(ctx context.Context, userID string) error {
	return db.mutate(ctx, "ensure user", userID, func(t *txn) error {
		for _, d := range store.DefaultMailboxes {
			created, err := t.createMailbox(d.Name, d.SpecialUse, true)
			if err != nil {
				return err
			}
			if created {
				t.touch()
			}
		}
		return nil
	})
}

// createMailbox creates name unless it exists; it reports whether it did.
func (t *txn) createMailbox(name, specialUse string, subscribed bool) (bool, error) {
	uidValidity, err := t.nextUIDValidity()
	if err != nil {
		return false, err
	}
	res, err := t.exec(`INSERT INTO mailboxes(user_id, name, special_use, uidvalidity, email_base)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT(user_id, name) DO NOTHING`,
		t.userID, name, specialUse, uidValidity, newEmailBase())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	if subscribed {
		err = t.subscribe(name)
	}
	return true, err
}

// subscribe adds name to the user's subscriptions, if missing.
func (t *txn) subscribe(name string) error {
	_, err := t.exec("INSERT INTO subscriptions(user_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING", t.userID, name)
	return err
}

// newEmailBase returns a random email_base: 16 hex digits.
func newEmailBase() string { return store.NewID()[:16] }

// nextUIDValidity returns a UIDVALIDITY larger than every earlier one of
// this file, close to the current time in seconds, so that a mailbox
// re-created with an old name never repeats an old value (RFC 9051 section
// 2.3.1.1).
func (t *txn) nextUIDValidity() (uint32, error) {
	now := time.Now().Unix()
	var v int64
	err := t.queryRow(`INSERT INTO counters(name, value) VALUES ('uidvalidity', ?)
		ON CONFLICT(name) DO UPDATE SET value = max(value + 1, excluded.value)
		RETURNING value`, now).Scan(&v)
	return uint32(v), err
}

// createParents creates the missing superior levels of name (RFC 9051
// section 6.3.4).
func (t *txn) createParents(name string) error {
	for i := 0; i < len(name); i++ {
		if name[i] != store.Delimiter {
			continue
		}
		created, err := t.createMailbox(name[:i], "", false)
		if err != nil {
			return err
		}
		if created {
			t.touch()
		}
	}
	return nil
}

// PurgeUser deletes every mailbox and message of userID.
func (db *DB) PurgeUser(ctx context.Context, userID string) error {
	return db.mutate(ctx, "purge user", userID, func(t *txn) error {
		keys, err := queryStrings(ctx, t.Tx, `SELECT m.blob_key FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
			WHERE b.user_id = ?`, userID)
		if err != nil {
			return err
		}
		if err := t.drop(keys); err != nil {
			return err
		}
		if _, err := t.exec("DELETE FROM mailboxes WHERE user_id = ?", userID); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM idempotency WHERE user_id = ?", "DELETE FROM subscriptions WHERE user_id = ?"} {
			if _, err := t.exec(q, userID); err != nil {
				return err
			}
		}
		t.touch()
		return nil
	})
}

// Usage returns the sum of the sizes of userID's mailboxes.
func (db *DB) Usage(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, "SELECT coalesce(sum(size), 0) FROM mailboxes WHERE user_id = ?", userID).Scan(&n)
	return n, wrap("usage", err)
}

// ListMailboxes returns userID's mailboxes sorted by name.
func (db *DB) ListMailboxes(ctx context.Context, userID string) ([]store.Mailbox, error) {
	var out []store.Mailbox
	err := db.read(ctx, "list mailboxes", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+mailboxColumns+" FROM mailboxes WHERE user_id = ? ORDER BY name", userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			mb, _, err := scanMailbox(rows)
			if err != nil {
				return err
			}
			out = append(out, mb)
		}
		return rows.Err()
	})
	return out, err
}

// Mailbox returns userID's mailbox by name.
func (db *DB) Mailbox(ctx context.Context, userID, name string) (store.Mailbox, error) {
	name, err := store.CheckMailboxName(name)
	if err != nil {
		return store.Mailbox{}, wrap("mailbox", errorf(store.ErrNotFound, "%v", err))
	}
	mb, _, err := mailboxByName(ctx, db.r, userID, name)
	return mb, wrap("mailbox", err)
}

// CreateMailbox creates a mailbox and its missing parents.
func (db *DB) CreateMailbox(ctx context.Context, userID, name, specialUse string) error {
	name, err := store.CheckCreateMailbox(name, specialUse)
	if err != nil {
		return wrap("create mailbox", err)
	}
	return db.mutate(ctx, "create mailbox", userID, func(t *txn) error {
		if err := t.createParents(name); err != nil {
			return err
		}
		created, err := t.createMailbox(name, specialUse, false)
		if err != nil {
			return err
		}
		if !created {
			return errorf(store.ErrExists, "mailbox %q", name)
		}
		t.touch()
		return nil
	})
}

// DeleteMailbox deletes a mailbox and its messages; its children stay.
func (db *DB) DeleteMailbox(ctx context.Context, userID, name string) error {
	name, err := store.CheckDeleteMailbox(name)
	if err != nil {
		return wrap("delete mailbox", err)
	}
	return db.mutate(ctx, "delete mailbox", userID, func(t *txn) error {
		_, id, err := mailboxByName(ctx, t.Tx, userID, name)
		if err != nil {
			return err
		}
		keys, err := queryStrings(ctx, t.Tx, "SELECT blob_key FROM messages WHERE mailbox_id = ?", id)
		if err != nil {
			return err
		}
		if err := t.drop(keys); err != nil {
			return err
		}
		if _, err := t.exec("DELETE FROM mailboxes WHERE id = ?", id); err != nil {
			return err
		}
		t.touch()
		return nil
	})
}

// SetSubscribed subscribes an existing mailbox, or unsubscribes a name
// (see store.Mailboxes).
func (db *DB) SetSubscribed(ctx context.Context, userID, name string, subscribed bool) error {
	name, err := store.CheckMailboxName(name)
	if err != nil {
		return wrap("set subscribed", errorf(store.ErrNotFound, "%v", err))
	}
	return db.mutate(ctx, "set subscribed", userID, func(t *txn) error {
		var isMailbox, isSubscribed bool
		var count int
		if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM mailboxes WHERE user_id = ?1 AND name = ?2),
			EXISTS (SELECT 1 FROM subscriptions WHERE user_id = ?1 AND name = ?2),
			(SELECT count(*) FROM subscriptions WHERE user_id = ?1)`, userID, name).Scan(&isMailbox, &isSubscribed, &count); err != nil {
			return err
		}
		switch {
		case subscribed && !isMailbox:
			return errorf(store.ErrNotFound, "mailbox %q", name)
		case !subscribed && !isMailbox && !isSubscribed:
			return errorf(store.ErrNotFound, "subscription %q", name)
		case subscribed == isSubscribed:
			return nil
		case subscribed && count >= store.MaxSubscriptions:
			return errorf(store.ErrLimit, "more than %d subscriptions", store.MaxSubscriptions)
		case subscribed:
			if err := t.subscribe(name); err != nil {
				return err
			}
		default:
			if _, err := t.exec("DELETE FROM subscriptions WHERE user_id = ? AND name = ?", userID, name); err != nil {
				return err
			}
		}
		t.touch()
		return nil
	})
}

// Subscriptions returns userID's subscribed names, sorted.
func (db *DB) Subscriptions(ctx context.Context, userID string) ([]string, error) {
	var names []string
	err := db.read(ctx, "subscriptions", func(tx *sql.Tx) error {
		var err error
		names, err = queryStrings(ctx, tx, "SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name", userID)
		return err
	})
	return names, err
}
