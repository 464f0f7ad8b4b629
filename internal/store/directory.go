package store

import (
	"context"
	"time"
)

// User is a mailbox owner. ID is stable and never derived from the address,
// so that renaming an address never moves data; every key of a user's data is
// derived from ID (invariant 6).
type User struct {
	ID           string
	Address      string // lower-case local@domain
	PasswordHash string // argon2id, PHC string format; see internal/auth
	Created      time.Time
	// Quota is the user's storage limit in bytes (the sum of the sizes of
	// its messages, see Mailboxes.Usage): QuotaDefault (0) means the
	// server's default (--default-quota), QuotaUnlimited (-1) means no
	// limit whatever the default. See internal/quota.
	Quota int64
}

// Special values of User.Quota.
const (
	QuotaDefault   int64 = 0
	QuotaUnlimited int64 = -1
)

// Directory holds domains, users and aliases. Addresses and domains are
// stored lower-case; drivers lower-case their arguments. Changes made by any
// process are visible to every other process at once (no caching that
// outlives a call).
type Directory interface {
	AddDomain(ctx context.Context, domain string) error // ErrExists
	// DeleteDomain removes a domain. It fails with ErrInUse while users or
	// aliases of the domain remain.
	DeleteDomain(ctx context.Context, domain string) error
	Domains(ctx context.Context) ([]string, error) // sorted
	HasDomain(ctx context.Context, domain string) (bool, error)

	// AddUser creates a user with a new random ID. The address's domain must
	// exist (ErrNotFound otherwise); ErrExists if the address is taken by a
	// user or an alias source.
	AddUser(ctx context.Context, address, passwordHash string) (User, error)
	DeleteUser(ctx context.Context, address string) error
	SetPassword(ctx context.Context, address, passwordHash string) error
	// SetQuota sets a user's Quota: bytes > 0, QuotaDefault or
	// QuotaUnlimited (ErrInvalid otherwise). ErrNotFound if no such user.
	SetQuota(ctx context.Context, address string, bytes int64) error
	UserByAddress(ctx context.Context, address string) (User, error) // ErrNotFound
	UserByID(ctx context.Context, id string) (User, error)           // ErrNotFound
	Users(ctx context.Context) ([]User, error)                       // sorted by address

	// AddAlias adds targets to the alias source. Source is local@domain or
	// "@domain" (a catch-all); its domain must exist. Targets are addresses,
	// local or not. Adding a target twice is not an error.
	AddAlias(ctx context.Context, source string, targets []string) error
	// DeleteAlias removes targets from source, or the whole alias when
	// targets is empty. ErrNotFound if source has no alias.
	DeleteAlias(ctx context.Context, source string, targets []string) error
	// AliasTargets returns the targets of source, or nil when it has none.
	AliasTargets(ctx context.Context, source string) ([]string, error)
	Aliases(ctx context.Context) (map[string][]string, error)
}
