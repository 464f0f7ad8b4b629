package store

import (
	"context"
	"time"
)

// SnapshotVersion is the format version of UserSnapshot and DirectorySnapshot.
const SnapshotVersion = 1

// UserSnapshot is a user's whole index: what `bucketmail reindex` needs,
// with the message objects, to rebuild it after the index store lost data.
type UserSnapshot struct {
	Version   int                `json:"v"`
	UserID    string             `json:"user"`
	Taken     time.Time          `json:"taken"`
	ChangeSeq uint64             `json:"seq"` // the user's change counter when taken
	Mailboxes []MailboxSnapshot  `json:"mailboxes"`
	IdemKeys  map[string]IdemRef `json:"idem,omitempty"`
	// Subscriptions are the user's subscribed names, sorted
	// (Mailboxes.Subscriptions). A snapshot without them (from before
	// subscriptions outlived their mailboxes) subscribes the mailboxes
	// whose Mailbox.Subscribed is set.
	Subscriptions []string `json:"subs,omitempty"`
}

// MailboxSnapshot is one mailbox with its messages, in UID order.
type MailboxSnapshot struct {
	Mailbox  Mailbox   `json:"mailbox"`
	Messages []Message `json:"messages"`
}

// IdemRef is where an idempotency key's delivery went.
type IdemRef struct {
	MailboxID string `json:"mbox"`
	UID       uint32 `json:"uid"`
}

// DirectorySnapshot is the whole directory.
type DirectorySnapshot struct {
	Version int                 `json:"v"`
	Taken   time.Time           `json:"taken"`
	Domains []string            `json:"domains"`
	Users   []User              `json:"users"`
	Aliases map[string][]string `json:"aliases,omitempty"`
}

// Snapshots exports and imports whole indexes.
type Snapshots interface {
	// ChangeSeq returns userID's change counter: it grows with every
	// mutation of the user's mailboxes, so a snapshotter can tell whether a
	// new snapshot is needed.
	ChangeSeq(ctx context.Context, userID string) (uint64, error)
	// ExportUser returns a consistent snapshot of userID's index.
	ExportUser(ctx context.Context, userID string) (*UserSnapshot, error)
	// ImportUser replaces userID's index with snap. Every mailbox gets a new
	// UIDVALIDITY greater than the snapshot's, because after a loss of index
	// data nobody can prove that UIDs handed out after the snapshot were not
	// reused (RFC 9051 section 2.3.1.1). Blob reference counts are adjusted.
	ImportUser(ctx context.Context, snap *UserSnapshot) error
	ExportDirectory(ctx context.Context) (*DirectorySnapshot, error)
	// ImportDirectory adds the domains, users (with their IDs and password
	// hashes) and alias targets of snap that are missing.
	ImportDirectory(ctx context.Context, snap *DirectorySnapshot) error
}
