package pop3

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/bucketmail/bucketmail/internal/store"
)

// entry is one message of the maildrop snapshot: what POP3 needs of an
// index entry, without the summary.
type entry struct {
	uid     uint32
	size    int64
	blobKey string
	prefix  []byte
	seen    bool // had \Seen at login

	deleted   bool // marked by DELE
	retrieved bool // sent whole by RETR
}

// maildrop is the snapshot of a user's INBOX taken at login (RFC 1939
// section 4). Message number n is msgs[n-1].
type maildrop struct {
	userID      string
	mailboxID   string
	uidValidity uint32
	msgs        []entry
}

// openMaildrop reads the index of userID's INBOX; no blob is read.
func openMaildrop(ctx context.Context, st Store, userID string) (*maildrop, error) {
	mb, err := st.Mailbox(ctx, userID, store.Inbox)
	if errors.Is(err, store.ErrNotFound) {
		// A user made without its default mailboxes: make them now.
		if err = st.EnsureUser(ctx, userID); err == nil {
			mb, err = st.Mailbox(ctx, userID, store.Inbox)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pop3: inbox: %w", err)
	}
	msgs, err := st.Messages(ctx, userID, mb.ID, 1, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("pop3: messages: %w", err)
	}
	d := &maildrop{userID: userID, mailboxID: mb.ID, uidValidity: mb.UIDValidity}
	d.msgs = make([]entry, len(msgs))
	for i, m := range msgs {
		d.msgs[i] = entry{
			uid:     m.UID,
			size:    m.Size,
			blobKey: m.BlobKey,
			prefix:  m.Prefix,
			seen:    slices.Contains(m.Flags, store.FlagSeen),
		}
	}
	return d, nil
}

// stat counts the messages not marked deleted and their octets.
func (d *maildrop) stat() (n int, size int64) {
	for _, e := range d.msgs {
		if !e.deleted {
			n++
			size += e.size
		}
	}
	return n, size
}

// uidl is the unique-id listing of e (RFC 1939 section 7): printable,
// stable across sessions since UIDVALIDITY and UID are.
func (d *maildrop) uidl(e *entry) string {
	return fmt.Sprintf("%d.%d", d.uidValidity, e.uid)
}

// lookup returns the message numbered by arg, or the text of the -ERR
// answer. A message marked deleted may not be referred to (RFC 1939
// section 5).
func (d *maildrop) lookup(arg string) (e *entry, n int, problem string) {
	n, ok := parseNumber(arg)
	if !ok {
		return nil, 0, "Invalid message number"
	}
	if n < 1 || n > len(d.msgs) {
		return nil, 0, "No such message"
	}
	e = &d.msgs[n-1]
	if e.deleted {
		return nil, 0, fmt.Sprintf("Message %d already deleted", n)
	}
	return e, n, ""
}

// reset unmarks every message (RSET).
func (d *maildrop) reset() {
	for i := range d.msgs {
		d.msgs[i].deleted = false
		d.msgs[i].retrieved = false
	}
}
