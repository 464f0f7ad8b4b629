package imapgw

import (
	"context"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Store is the part of the index store the IMAP gateway uses: the
// authenticated user's mailboxes, the user's directory entry for the
// quota of APPEND, and ReleaseBlob for the objects of an APPEND whose
// insert failed.
type Store interface {
	store.Mailboxes
	UserByID(ctx context.Context, id string) (store.User, error)
	ReleaseBlob(ctx context.Context, key string) error
}

var _ Store = (store.Store)(nil)
