package imapgw

import (
	"context"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Store is the part of the index store the IMAP gateway uses: the
// authenticated user's mailboxes, and the user's directory entry for the
// quota of APPEND.
type Store interface {
	store.Mailboxes
	UserByID(ctx context.Context, id string) (store.User, error)
}

var _ Store = (store.Store)(nil)
