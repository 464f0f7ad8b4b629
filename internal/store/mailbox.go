package store

import (
	"context"
	"time"
)

// Delimiter separates the levels of mailbox names.
const Delimiter = '/'

// Inbox is the name of every user's inbox (case-insensitive on input).
const Inbox = "INBOX"

// DefaultMailboxes are created for every new user, with their special-use
// attribute (RFC 6154).
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{Inbox, ""},
	{"Sent", `\Sent`},
	{"Drafts", `\Drafts`},
	{"Trash", `\Trash`},
	{"Junk", `\Junk`},
	{"Archive", `\Archive`},
}

// Standard flags kept by the index.
const (
	FlagSeen     = `\Seen`
	FlagDeleted  = `\Deleted`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDraft    = `\Draft`
)

// Mailbox is a mailbox with its current status.
type Mailbox struct {
	ID            string // opaque, stable across renames
	Name          string // full name, levels separated by Delimiter; "INBOX" for the inbox
	SpecialUse    string // `\Sent`, `\Trash`, ... or ""
	Subscribed    bool   // Name is among the user's Subscriptions
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	Messages      uint32
	Unseen        uint32 // messages without \Seen
	Deleted       uint32 // messages with \Deleted (STATUS DELETED, RFC 9208)
	Size          int64  // sum of message sizes
	// Keywords are the keywords (flags without a leading backslash) set
	// on a message of the mailbox since it was created, in the order they
	// first appeared: what FLAGS and PERMANENTFLAGS list. A keyword stays
	// listed after the last message loses it (FLAGS lists the flags
	// applicable in the mailbox, RFC 9051 section 7.3.5); there are at
	// most MaxKeywords.
	Keywords []string
}

// MaxKeywords bounds the keywords of one mailbox (Mailbox.Keywords): a
// change that would add a keyword past it fails with ErrLimit, so that a
// client cannot grow the FLAGS response without bound.
const MaxKeywords = 256

// MaxSubscriptions bounds the subscriptions of one user: SetSubscribed
// of a name past it fails with ErrLimit (IMAP answers NO [LIMIT]).
// EnsureUser subscribes the DefaultMailboxes it creates regardless.
const MaxSubscriptions = 10000

// MaxTombstones is how many expunged UIDs a mailbox remembers for
// Vanished (RFC 7162 section 3.2.10): past it, the oldest are forgotten
// and Vanished reports a mod-sequence before them as incomplete.
const MaxTombstones = 10000

// NewMessage is what InsertMessage stores in the index.
type NewMessage struct {
	BlobKey      string // the object holding the raw message as received
	Prefix       []byte // per-recipient header lines (CRLF-terminated), served before the object
	Size         int64  // len(Prefix) + object size
	InternalDate time.Time
	Flags        []string
	Summary      []byte // encoded message.Summary; opaque to the store
	// Text is the message's searchable text, kept by a driver that is a
	// TextStore (nil: none); it is never listed back, nor snapshotted.
	Text *SearchText `json:"-"`
	// IdemKey is the idempotency key of an entry InsertMessages adds
	// (invariant 3; InsertMessage takes its key as an argument): recorded
	// with the entry in the same atomic step, like InsertMessage's. Empty:
	// none. It is never listed back.
	IdemKey string `json:"-"`
}

// Message is one index entry.
type Message struct {
	NewMessage
	UID    uint32
	ModSeq uint64
	// SaveDate is when the entry was saved into its mailbox (RFC 8514):
	// by InsertMessage, CopyMessages or MoveMessages; to the second.
	SaveDate time.Time `json:",omitzero"`
	// EmailID is the entry's OBJECTID EMAILID (RFC 8474 section 5.1): 1 to
	// 255 characters of [A-Za-z0-9_-], assigned at insert, kept by
	// CopyMessages and MoveMessages, the same for every copy of one
	// message, never reused for another. Threads are not kept (THREADID
	// NIL).
	EmailID string `json:",omitempty"`
}

// FlagOp says how SetFlags applies its flags.
type FlagOp int

const (
	FlagsReplace FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// Mailboxes is the mailbox index. Every call is scoped by the user ID of the
// authenticated user; no mailbox name or ID can reach another user's data
// (invariant 6). Each mutation is atomic and bumps the mailbox's
// HighestModSeq; every message it adds or changes gets that ModSeq.
// Mutations wake Watch channels of the user in every process.
//
// Objects are reference-counted: each index entry holds one reference to its
// BlobKey (invariant 4). A call that drops the last reference to an object
// (Expunge, DeleteMailbox, PurgeUser) schedules its deletion at the time of
// the call (Ledger.ScheduleBlobDeletes) in the same atomic step as the
// change, so that no crash leaves an unreferenced object off the schedule;
// the reconciler deletes it later, if still unreferenced and not waiting
// for a queued job. The one exception is Snapshots.ImportUser: the entries
// it replaces are about to come back through reindex, and leaking an
// object is safer than losing one.
type Mailboxes interface {
	// EnsureUser creates the DefaultMailboxes of userID that do not exist.
	EnsureUser(ctx context.Context, userID string) error
	// PurgeUser deletes every mailbox and message of userID.
	PurgeUser(ctx context.Context, userID string) error

	ListMailboxes(ctx context.Context, userID string) ([]Mailbox, error) // sorted by name
	// Usage returns the storage userID uses: the sum of Mailbox.Size over
	// its mailboxes (0 for a user without mailboxes). Quotas are checked
	// against it (internal/quota).
	Usage(ctx context.Context, userID string) (int64, error)
	// Mailbox returns a mailbox by name; "inbox" in any case is INBOX.
	Mailbox(ctx context.Context, userID, name string) (Mailbox, error)
	// CreateMailbox fails with ErrExists, or ErrInvalid for a bad name
	// (see ValidMailboxName). It creates missing parent levels too.
	CreateMailbox(ctx context.Context, userID, name, specialUse string) error
	// DeleteMailbox deletes a mailbox and its messages; its children stay.
	// INBOX cannot be deleted (ErrInvalid).
	DeleteMailbox(ctx context.Context, userID, name string) error
	// RenameMailbox renames a mailbox and its children. Renaming INBOX
	// moves its messages to a new mailbox newName and leaves INBOX empty
	// (RFC 9051 section 6.3.6). ErrExists if newName exists.
	RenameMailbox(ctx context.Context, userID, oldName, newName string) error
	// SetSubscribed adds name to userID's subscriptions or removes it
	// (RFC 9051 sections 6.3.9 and 6.3.10). Subscriptions are names, kept
	// apart from the mailboxes: DeleteMailbox leaves a subscription, so
	// that a subscribed name can outlive its mailbox (LSUB and LIST
	// (SUBSCRIBED) show it \NonExistent), and a mailbox created again
	// under that name is subscribed; RenameMailbox moves the subscriptions
	// of oldName and of every name below it, whether or not their
	// mailboxes exist. Subscribing needs an existing mailbox (ErrNotFound
	// otherwise) and fails with ErrLimit past MaxSubscriptions;
	// subscribing a subscribed name changes nothing. Unsubscribing works
	// whether or not the mailbox exists, and fails with ErrNotFound only
	// if the name is neither subscribed nor a mailbox. "inbox" in any
	// case is INBOX. PurgeUser removes every subscription.
	SetSubscribed(ctx context.Context, userID, name string, subscribed bool) error
	// Subscriptions returns userID's subscribed names, sorted, those of
	// mailboxes that no longer exist included.
	Subscriptions(ctx context.Context, userID string) ([]string, error)

	// InsertMessages adds ms to mailboxID with the next UIDs, all or none
	// in one atomic step (MULTIAPPEND, RFC 3502), and returns their UIDs
	// in the order of ms. The IdemKey of each message, if set, is recorded
	// in the same step; a key used before for userID fails the whole call
	// with ErrExists, and one given twice with ErrInvalid.
	InsertMessages(ctx context.Context, userID, mailboxID string, ms []NewMessage) (uids []uint32, err error)
	// InsertMessage adds m to mailboxID with the next UID. If idemKey is not
	// empty and was used before for userID, nothing changes and the earlier
	// UID is returned with dup true (invariant 3).
	InsertMessage(ctx context.Context, userID, mailboxID, idemKey string, m NewMessage) (uid uint32, dup bool, err error)
	// Messages returns the messages of mailboxID with first <= UID <= last
	// (last 0 means no upper bound) and ModSeq > changedSince, in UID order.
	Messages(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]Message, error)
	// MessageHeads is Messages for callers that need neither Prefix nor
	// Summary: a driver may leave them nil, and spare reading them (flag
	// searches, and syncs whose summaries a gateway has cached). Every
	// other field, SaveDate and EmailID included, is filled in.
	MessageHeads(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]Message, error)
	// UIDs returns all UIDs of mailboxID in ascending order.
	UIDs(ctx context.Context, userID, mailboxID string) ([]uint32, error)
	// SeenUIDs returns, in ascending order, the UIDs of the messages of
	// mailboxID that have \Seen (seen true) or lack it: SEARCH SEEN and
	// UNSEEN without a row per message.
	SeenUIDs(ctx context.Context, userID, mailboxID string, seen bool) ([]uint32, error)
	// ModSeqUIDs returns, in ascending order, the UIDs of the messages of
	// mailboxID with ModSeq >= modSeq (SEARCH MODSEQ, RFC 7162 section
	// 3.1.5) from the mod-sequence index alone, reading no message.
	ModSeqUIDs(ctx context.Context, userID, mailboxID string, modSeq uint64) ([]uint32, error)
	// SetFlags changes the flags of the given UIDs and returns the messages
	// whose flags changed (UID, Flags and ModSeq filled in).
	SetFlags(ctx context.Context, userID, mailboxID string, uids []uint32, op FlagOp, flags []string) ([]Message, error)
	// SetFlagsUnchangedSince is SetFlags for STORE (UNCHANGEDSINCE n)
	// (RFC 7162 section 3.1.3): in the same atomic step, it changes only
	// the messages among uids whose ModSeq <= unchangedSince, and returns
	// the UIDs of those it left alone because their ModSeq is greater, in
	// ascending order (the [MODIFIED ...] set), besides the messages whose
	// flags changed, as SetFlags does. An unchangedSince of 0 fails every
	// message that exists. UIDs that do not exist are in neither list.
	SetFlagsUnchangedSince(ctx context.Context, userID, mailboxID string, uids []uint32, op FlagOp, flags []string,
		unchangedSince uint64) (changed []Message, failed []uint32, err error)
	// Expunge removes the messages flagged \Deleted, only those among uids
	// when uids is not nil, and returns their UIDs in ascending order.
	Expunge(ctx context.Context, userID, mailboxID string, uids []uint32) (expunged []uint32, err error)
	// CopyMessages copies uids to dstID, keeping flags and internal date;
	// it returns the source UIDs that existed and their new UIDs, pairwise.
	CopyMessages(ctx context.Context, userID, srcID string, uids []uint32, dstID string) (src, dst []uint32, err error)
	// MoveMessages is CopyMessages and removal from srcID in one atomic step.
	MoveMessages(ctx context.Context, userID, srcID string, uids []uint32, dstID string) (src, dst []uint32, err error)

	// ClaimRecent claims the messages of mailboxID that no session has
	// seen as \Recent yet (RFC 3501 section 2.3.2): it returns the UID
	// range first..last of the messages added since the last claim and
	// moves the mark to UIDNEXT-1 in one atomic step, so that of
	// concurrent claimers in any process exactly one gets each UID. The
	// range may hold UIDs since expunged; none is first = last = 0. It
	// changes nothing else (no mod-sequence, no Watch wake-up).
	ClaimRecent(ctx context.Context, userID, mailboxID string) (first, last uint32, err error)
	// CountRecent returns how many messages of mailboxID the next
	// ClaimRecent would claim, of those that still exist: the messages
	// above the mark, for STATUS RECENT (RFC 3501 section 6.3.10). It only
	// reads; the mark stays where it is.
	CountRecent(ctx context.Context, userID, mailboxID string) (uint32, error)
	// Vanished returns, in ascending order, the UIDs expunged from
	// mailboxID (by Expunge or MoveMessages) with a mod-sequence greater
	// than sinceModSeq (RFC 7162 section 3.2.10). Every expunge gets a
	// mod-sequence above every earlier change of the mailbox, and
	// HighestModSeq moves with it. A mailbox remembers the last
	// MaxTombstones expunged UIDs: complete is false when sinceModSeq is
	// older than that, and the caller then treats every UID it does not
	// find as vanished.
	Vanished(ctx context.Context, userID, mailboxID string, sinceModSeq uint64) (uids []uint32, complete bool, err error)

	// Watch returns a channel that receives a value, within a second, after
	// any change to userID's mailboxes by any process. The channel is closed
	// when ctx ends. Sends never block: a pending value stands for any number
	// of changes.
	Watch(ctx context.Context, userID string) <-chan struct{}
}
