package pop3

import (
	"context"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Store is the part of the index store POP3 uses: the user's INBOX, its
// messages, and the flags and expunge of the UPDATE state.
type Store interface {
	EnsureUser(ctx context.Context, userID string) error
	Mailbox(ctx context.Context, userID, name string) (store.Mailbox, error)
	Messages(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error)
	SetFlags(ctx context.Context, userID, mailboxID string, uids []uint32, op store.FlagOp, flags []string) ([]store.Message, error)
	Expunge(ctx context.Context, userID, mailboxID string, uids []uint32) ([]uint32, error)
}

var _ Store = (store.Store)(nil)
