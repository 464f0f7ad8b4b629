package sqlite

import (
	"context"

	"github.com/bucketmail/bucketmail/internal/store"
)

// RenameMailbox renames a mailbox and its children; renaming INBOX moves
// its messages to a new mailbox instead (RFC 9051 section 6.3.6).
func (db *DB) RenameMailbox(ctx context.Context, userID, oldName, newName string) error {
	oldName, newName, err := store.CheckRename(oldName, newName)
	if err != nil {
		return wrap("rename mailbox", err)
	}
	return db.mutate(ctx, "rename mailbox", userID, func(t *txn) error {
		if oldName == store.Inbox {
			return t.renameInbox(newName)
		}
		return t.renameTree(oldName, newName)
	})
}

// renameTree renames oldName and every name below it.
func (t *txn) renameTree(oldName, newName string) error {
	if _, _, err := mailboxByName(t.ctx, t.Tx, t.userID, oldName); err != nil {
		return err
	}
	if err := t.needFree(newName); err != nil {
		return err
	}
	children, err := queryStrings(t.ctx, t.Tx, `SELECT name FROM mailboxes
		WHERE user_id = ? AND substr(name, 1, ?) = ?`, t.userID, len(oldName)+1, oldName+"/")
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := t.needFree(newName + c[len(oldName):]); err != nil {
			return err
		}
	}
	for _, n := range append([]string{oldName}, children...) {
		if _, err := t.exec("UPDATE mailboxes SET name = ? WHERE user_id = ? AND name = ?",
			newName+n[len(oldName):], t.userID, n); err != nil {
			return err
		}
	}
	if err := t.renameSubscriptions(oldName, newName); err != nil {
		return err
	}
	t.touch()
	return t.createParents(newName)
}

// renameSubscriptions moves the subscriptions of oldName and of every name
// below it, whether or not their mailboxes exist, to newName.
func (t *txn) renameSubscriptions(oldName, newName string) error {
	if _, err := t.exec(`INSERT INTO subscriptions(user_id, name)
		SELECT user_id, ?3 || substr(name, length(?2) + 1) FROM subscriptions
		WHERE user_id = ?1 AND (name = ?2 OR substr(name, 1, length(?2) + 1) = ?2 || '/')
		ON CONFLICT DO NOTHING`, t.userID, oldName, newName); err != nil {
		return err
	}
	_, err := t.exec(`DELETE FROM subscriptions
		WHERE user_id = ?1 AND (name = ?2 OR substr(name, 1, length(?2) + 1) = ?2 || '/')`, t.userID, oldName)
	return err
}

// renameInbox moves INBOX's messages to a new mailbox newName. The messages
// keep their UIDs (the new mailbox has a new UIDVALIDITY) and INBOX keeps
// its UIDNEXT, so no UID of either is ever reused.
func (t *txn) renameInbox(newName string) error {
	inbox, inboxID, err := mailboxByName(t.ctx, t.Tx, t.userID, store.Inbox)
	if err != nil {
		return err
	}
	if err := t.needFree(newName); err != nil {
		return err
	}
	if err := t.createParents(newName); err != nil {
		return err
	}
	if _, err := t.createMailbox(newName, "", false); err != nil {
		return err
	}
	_, newID, err := mailboxByName(t.ctx, t.Tx, t.userID, newName)
	if err != nil {
		return err
	}
	modseq := inbox.HighestModSeq + 1
	// The messages keep their EMAILIDs, derived from INBOX's email_base
	// so far, and their \Recent state. INBOX remembers no tombstones for
	// them: its vanished_floor moves past them instead, so that Vanished
	// reports a resync from before as incomplete.
	if _, err := t.exec(`UPDATE messages SET email_id = 'M' || (SELECT email_base FROM mailboxes WHERE id = ?) || '-' || uid
		WHERE mailbox_id = ? AND email_id = ''`, inboxID, inboxID); err != nil {
		return err
	}
	if _, err := t.exec("UPDATE messages SET mailbox_id = ? WHERE mailbox_id = ?", newID, inboxID); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, messages = ?, unseen = ?, size = ?,
		deleted = ?, keywords = ?, recent = (SELECT recent FROM mailboxes WHERE id = ?), vanished_floor = ?
		WHERE id = ?`, inbox.UIDNext, modseq, inbox.Messages, inbox.Unseen, inbox.Size,
		inbox.Deleted, store.EncodeFlags(inbox.Keywords), inboxID, modseq, newID); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE mailboxes SET highestmodseq = ?, messages = 0, unseen = 0, size = 0, deleted = 0,
		vanished_floor = ? WHERE id = ?`, modseq, modseq, inboxID); err != nil {
		return err
	}
	t.touch()
	return nil
}

// needFree fails with ErrExists if userID has a mailbox name.
func (t *txn) needFree(name string) error {
	var n int
	if err := t.queryRow("SELECT count(*) FROM mailboxes WHERE user_id = ? AND name = ?", t.userID, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errorf(store.ErrExists, "mailbox %q", name)
	}
	return nil
}
