package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from user_version i to i+1. Append only.
var migrations = []string{
	`
CREATE TABLE domains (
	name TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	address       TEXT NOT NULL UNIQUE,
	domain        TEXT NOT NULL REFERENCES domains(name),
	password_hash TEXT NOT NULL,
	created       INTEGER NOT NULL -- unix nanoseconds
);
CREATE INDEX users_domain ON users(domain);

CREATE TABLE aliases (
	source TEXT NOT NULL, -- local@domain or @domain
	target TEXT NOT NULL,
	domain TEXT NOT NULL REFERENCES domains(name),
	PRIMARY KEY (source, target)
) WITHOUT ROWID;
CREATE INDEX aliases_domain ON aliases(domain);

-- AUTOINCREMENT: a mailbox ID is never reused, so a stale ID held by a
-- client can never reach a mailbox created later.
CREATE TABLE mailboxes (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id       TEXT NOT NULL,
	name          TEXT NOT NULL,
	special_use   TEXT NOT NULL DEFAULT '',
	subscribed    INTEGER NOT NULL DEFAULT 0,
	uidvalidity   INTEGER NOT NULL,
	uidnext       INTEGER NOT NULL DEFAULT 1,
	highestmodseq INTEGER NOT NULL DEFAULT 1,
	messages      INTEGER NOT NULL DEFAULT 0,
	unseen        INTEGER NOT NULL DEFAULT 0,
	size          INTEGER NOT NULL DEFAULT 0,
	UNIQUE (user_id, name)
);

CREATE TABLE messages (
	mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid           INTEGER NOT NULL,
	blob_key      TEXT NOT NULL,
	prefix        BLOB NOT NULL,
	size          INTEGER NOT NULL,
	internal_date INTEGER NOT NULL, -- unix nanoseconds
	flags         TEXT NOT NULL,    -- normalized, space-separated
	seen          INTEGER NOT NULL, -- flags has \Seen; keeps Unseen cheap
	modseq        INTEGER NOT NULL,
	summary       BLOB NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);

CREATE TABLE blobs (
	key  TEXT PRIMARY KEY,
	refs INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE idempotency (
	user_id    TEXT NOT NULL,
	key        TEXT NOT NULL,
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	PRIMARY KEY (user_id, key)
) WITHOUT ROWID;

-- changes counts the committed mutations of each user; Watch polls it to
-- see changes made by other processes.
CREATE TABLE changes (
	user_id TEXT PRIMARY KEY,
	counter INTEGER NOT NULL
) WITHOUT ROWID;

-- counters holds named monotonic counters (the last UIDVALIDITY handed out).
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

-- jobs: state 0 = ready (pending, or delayed while not_before is in the
-- future), 1 = claimed until lease_until, 2 = dead. The rowid gives FIFO order.
CREATE TABLE jobs (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT NOT NULL,
	queue       TEXT NOT NULL,
	payload     TEXT NOT NULL, -- JSON envelope
	state       INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	not_before  INTEGER NOT NULL DEFAULT 0, -- unix nanoseconds
	lease_until INTEGER NOT NULL DEFAULT 0, -- unix nanoseconds
	consumer    TEXT NOT NULL DEFAULT '',
	last_error  TEXT NOT NULL DEFAULT '',
	UNIQUE (queue, id)
);
CREATE INDEX jobs_ready ON jobs(queue, state, not_before);
CREATE INDEX jobs_lease ON jobs(queue, state, lease_until);
`,
	// 2: the ledger (store.Ledger) of the reconciler and the object
	// collector.
	`
-- done_jobs remembers acked job ids for store.DoneRetention, so that the
-- reconciler does not re-enqueue a message that was delivered.
CREATE TABLE done_jobs (
	queue TEXT NOT NULL,
	id    TEXT NOT NULL,
	done  INTEGER NOT NULL, -- unix nanoseconds
	PRIMARY KEY (queue, id)
) WITHOUT ROWID;
CREATE INDEX done_jobs_done ON done_jobs(done);

CREATE TABLE leases (
	name   TEXT PRIMARY KEY,
	holder TEXT NOT NULL,
	until  INTEGER NOT NULL -- unix nanoseconds
) WITHOUT ROWID;

CREATE TABLE checkpoints (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- blob_deletes holds objects that lost their last reference, with the
-- time they may be deleted at.
CREATE TABLE blob_deletes (
	key TEXT PRIMARY KEY,
	at  INTEGER NOT NULL -- unix nanoseconds
) WITHOUT ROWID;
CREATE INDEX blob_deletes_at ON blob_deletes(at);
`,
	// 3: fixed-window counters of the abuse limits (store.Limiter).
	`
CREATE TABLE limits (
	key     TEXT NOT NULL,
	window  INTEGER NOT NULL, -- window length, nanoseconds
	idx     INTEGER NOT NULL, -- window index: unix nanoseconds / window
	count   INTEGER NOT NULL,
	expires INTEGER NOT NULL, -- unix nanoseconds: end of the window
	PRIMARY KEY (key, window)
) WITHOUT ROWID;
CREATE INDEX limits_expires ON limits(expires);
`,
	// 4: per-user storage quotas (store.User.Quota): bytes, 0 = the
	// server's default, -1 = unlimited.
	`
ALTER TABLE users ADD COLUMN quota INTEGER NOT NULL DEFAULT 0;
`,
	// 5: a narrow index of the messages, so that listing a mailbox's UIDs
	// (SELECT, polls that saw an expunge) reads a few bytes per message
	// instead of every row with its summary.
	`
CREATE INDEX messages_uid ON messages(mailbox_id, uid, modseq, seen);
`,
	// 6: everything of a message but its prefix and summary, so that MessageHeads
	// (flag searches, syncs served from the gateway's cache) reads no row.
	`
CREATE INDEX messages_heads ON messages(mailbox_id, uid, modseq, blob_key, size, internal_date, flags);
`,
	// 7: messages becomes a rowid table. In a WITHOUT ROWID table a row
	// longer than about 1,000 bytes (a summary is) keeps only some 490
	// bytes in its b-tree cell and the rest in an overflow page of its
	// own, and every key comparison of a seek reads that whole row back
	// from its overflow page. A rowid table keeps rows of up to about 4 KiB
	// in the leaf, and its seeks compare integers.
	`
CREATE TABLE messages_new (
	mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	uid           INTEGER NOT NULL,
	blob_key      TEXT NOT NULL,
	prefix        BLOB NOT NULL,
	size          INTEGER NOT NULL,
	internal_date INTEGER NOT NULL, -- unix nanoseconds
	flags         TEXT NOT NULL,    -- normalized, space-separated
	seen          INTEGER NOT NULL, -- flags has \Seen; keeps Unseen cheap
	modseq        INTEGER NOT NULL,
	summary       BLOB NOT NULL,    -- last: listings without it stop before it
	PRIMARY KEY (mailbox_id, uid)
);
INSERT INTO messages_new(mailbox_id, uid, blob_key, prefix, size, internal_date, flags, seen, modseq, summary)
	SELECT mailbox_id, uid, blob_key, prefix, size, internal_date, flags, seen, modseq, summary FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_uid ON messages(mailbox_id, uid, modseq, seen);
CREATE INDEX messages_heads ON messages(mailbox_id, uid, modseq, blob_key, size, internal_date, flags);
`,
	// 8: the consumer's state of a job (store.Job.State), kept with the
	// job and, once acked, with its done record: it is deleted with them
	// instead of growing a checkpoint per job.
	`
ALTER TABLE jobs ADD COLUMN data TEXT NOT NULL DEFAULT '';
ALTER TABLE done_jobs ADD COLUMN data TEXT NOT NULL DEFAULT '';
`,
	// 9: the full-text index (store.TextStore): the searchable text of
	// each entry, rowid = the entry's rowid, with the trigram tokenizer
	// (substring matches; the text is folded already, hence case
	// sensitive), with positions, so that a phrase of trigrams is a
	// substring match the index answers without reading the text. An
	// entry's text is written to search_staged in the entry's
	// transaction and moved into search_text in batches (search.go):
	// FTS5 writes a segment per transaction, and merges them, which
	// costs more than the delivery itself when done message by message. messages.search says what the entry has: 0 no text, 1
	// its whole text, 2 a truncated text; the partial index lists the
	// entries a search cannot answer for from the index alone. The
	// trigger drops the text with its entry, however the entry goes
	// (EXPUNGE, MOVE, a deleted mailbox, a purged user, an import).
	`
CREATE VIRTUAL TABLE search_text USING fts5(head, body, tokenize = 'trigram case_sensitive 1');
ALTER TABLE messages ADD COLUMN search INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_unsearched ON messages(mailbox_id, uid) WHERE search != 1;
CREATE TABLE search_staged (rowid INTEGER PRIMARY KEY, head TEXT NOT NULL, body TEXT NOT NULL);
CREATE TRIGGER messages_search_gone AFTER DELETE ON messages WHEN old.search != 0 BEGIN
	DELETE FROM search_text WHERE rowid = old.rowid;
	DELETE FROM search_staged WHERE rowid = old.rowid;
END;
`,
	// 10: what the IMAP extensions need of the index. mailboxes.deleted
	// counts the messages with \Deleted (STATUS DELETED, RFC 9208);
	// keywords lists the keywords in use, space-separated (FLAGS); recent
	// is the highest UID claimed as \Recent (RFC 3501 section 2.3.2);
	// email_base is the random part of the EMAILIDs of the mailbox's
	// inserts (RFC 8474); vanished_floor is the mod-sequence up to which
	// expunged UIDs are forgotten and tombstones counts those remembered
	// (RFC 7162 section 3.2.10). messages.save_date is when the entry was
	// saved (RFC 8514; unix nanoseconds, 0: its internal date) and
	// email_id its EMAILID ('': derived from email_base and the UID).
	// Existing mailboxes start with nothing recent and nothing
	// remembered as expunged.
	`
ALTER TABLE mailboxes ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN recent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN email_base TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN vanished_floor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN tombstones INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN save_date INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN email_id TEXT NOT NULL DEFAULT '';
UPDATE mailboxes SET recent = uidnext - 1, vanished_floor = highestmodseq, email_base = lower(hex(randomblob(8))),
	deleted = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id
		AND instr(' ' || m.flags || ' ', ' \Deleted ') > 0);
WITH RECURSIVE words(mailbox_id, rest, word) AS (
	SELECT mailbox_id, flags || ' ', '' FROM messages WHERE flags != ''
	UNION ALL
	SELECT mailbox_id, substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1)
	FROM words WHERE rest != ''
), keywords(mailbox_id, word) AS (
	SELECT mailbox_id, min(word) FROM words WHERE word != '' AND substr(word, 1, 1) != '\'
	GROUP BY mailbox_id, lower(word)
)
UPDATE mailboxes SET keywords = coalesce((SELECT group_concat(word, ' ') FROM keywords k
	WHERE k.mailbox_id = mailboxes.id), '');
CREATE TABLE tombstones (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
	modseq     INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, modseq, uid)
) WITHOUT ROWID;
DROP INDEX messages_heads;
CREATE INDEX messages_heads ON messages(mailbox_id, uid, modseq, blob_key, size, internal_date, flags, save_date, email_id);
`,
	// 11: subscriptions are names, apart from the mailboxes, so that one
	// outlives its mailbox (RFC 9051 section 6.3.9); mailboxes.subscribed
	// goes. messages_modseq carries the UID, so that the UIDs changed
	// since a mod-sequence (SEARCH MODSEQ) are read from the index alone.
	`
CREATE TABLE subscriptions (
	user_id TEXT NOT NULL,
	name    TEXT NOT NULL,
	PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
INSERT INTO subscriptions(user_id, name) SELECT user_id, name FROM mailboxes WHERE subscribed != 0;
ALTER TABLE mailboxes DROP COLUMN subscribed;
DROP INDEX messages_modseq;
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq, uid);
`,
	// 12: staged texts move to search_packed, their bodies packed (S2,
	// textfuncs.go): half the pages for a search's scan of them to read.
	// A process that opened the file before and still runs fails on the
	// table it knows, rather than moving packed bodies into search_text
	// as text.
	`
DROP TRIGGER messages_search_gone;
CREATE TABLE search_packed (rowid INTEGER PRIMARY KEY, head TEXT NOT NULL, body BLOB NOT NULL);
INSERT INTO search_packed(rowid, head, body) SELECT rowid, head, staged_pack(body) FROM search_staged;
DROP TABLE search_staged;
CREATE TRIGGER messages_search_gone AFTER DELETE ON messages WHEN old.search != 0 BEGIN
	DELETE FROM search_text WHERE rowid = old.rowid;
	DELETE FROM search_packed WHERE rowid = old.rowid;
END;
`,
}

// migrate switches the file to WAL and applies the migrations it lacks, in
// one BEGIN IMMEDIATE transaction, so that two processes opening a new file
// at once do not both create the schema.
func migrate(ctx context.Context, w *sql.DB, target int) error {
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: schema version %d is newer than this program's %d", version, len(migrations))
	}
	for i := version; i < target; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	if version < target {
		// PRAGMA takes no parameters; the value is our own constant.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", target)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return tx.Commit()
}
