// Package store defines the state bucketmail keeps besides message bodies:
// the directory (domains, users, aliases), the delivery queue and the mailbox
// index. The embedded driver is store/sqlite; the cloud driver is Redis.
// Both must pass the conformance suite in store/storetest.
//
// Mailbox logic that is the same for every driver (recipient resolution,
// mailbox name rules) lives here, written once against the interfaces.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/bucketmail/bucketmail/internal/fault"
)

// Errors returned (wrapped) by every driver. All are permanent.
var (
	ErrNotFound = fault.Permanent(errors.New("store: not found"))
	ErrExists   = fault.Permanent(errors.New("store: already exists"))
	ErrInvalid  = fault.Permanent(errors.New("store: invalid argument"))
	ErrInUse    = fault.Permanent(errors.New("store: still in use"))
	// ErrLimit is a request past a bound of the index (MaxKeywords); it
	// is an ErrInvalid too.
	ErrLimit = fault.Permanent(fmt.Errorf("store: limit reached: %w", ErrInvalid))
)

// Store is everything a driver provides: every driver has all of it, so no
// caller asks for a part by type assertion. A consumer declares the slice
// it uses as its own interface (gateway/pop3.Store, reconcile.Store, ...),
// which Store satisfies.
type Store interface {
	Directory
	Mailboxes
	Queue
	Ledger
	Snapshots
	Limiter

	// Ping checks that the backend is reachable (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}
