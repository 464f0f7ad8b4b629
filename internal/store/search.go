package store

import "context"

// SearchText is the searchable text of a message (message.Text): header
// values and body text, folded to lower case with strings.ToLower.
// Truncated says that it is a prefix of the message's text.
type SearchText struct {
	Head      string
	Body      string
	Truncated bool
}

// TextIndex answers IMAP SEARCH BODY and TEXT (RFC 9051 section 6.4.4,
// a case-insensitive substring match) for the messages of one mailbox.
// The embedded driver keeps the text in the index store
// (NewMessage.Text); the cloud keeps it in the bucket (internal/search).
type TextIndex interface {
	// SearchText returns, in ascending order, the UIDs of mailboxID whose
	// text contains pattern (in Body, or with head also in Head), and
	// the UIDs it cannot answer for: messages without text, and truncated
	// ones whose text does not contain it. Every other UID does not match.
	SearchText(ctx context.Context, userID, mailboxID, pattern string, head bool) (hits, unknown []uint32, err error)
}

// HeadTextIndex is a TextIndex that can answer for messages the caller
// has listed already (a gateway's cached heads: UID and BlobKey), sparing
// a listing of the mailbox per search (the cloud's).
type HeadTextIndex interface {
	TextIndex
	// SearchHeads is SearchText over heads, sorted by UID.
	SearchHeads(ctx context.Context, userID string, heads []Message, pattern string, head bool) (hits, unknown []uint32, err error)
}

// TextStore is a TextIndex whose text is written through the mailbox
// index (the SQLite driver): by InsertMessage from NewMessage.Text, in the
// same transaction as the entry; copies keep it, removals drop it.
type TextStore interface {
	TextIndex
	// TextlessUIDs returns the UIDs of mailboxID that have no text.
	TextlessUIDs(ctx context.Context, userID, mailboxID string) ([]uint32, error)
	// SetText gives the entry uid of mailboxID its text (reindex).
	// ErrNotFound if there is no such entry.
	SetText(ctx context.Context, userID, mailboxID string, uid uint32, text SearchText) error
}

// TextSink takes the text of messages that entered userID's mailboxes,
// for a TextIndex kept outside the mailbox index (the cloud's segments in
// the bucket). Add does not fail: text it loses is read by searches.
type TextSink interface {
	AddText(userID, blobKey string, text SearchText)
}
