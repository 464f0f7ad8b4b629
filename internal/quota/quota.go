// Package quota enforces per-user storage quotas: the sum of the sizes of a
// user's messages (store.Mailboxes.Usage) against the user's limit
// (store.User.Quota, else the server's default from --default-quota).
//
// The check is advisory and not atomic with the insert: two deliveries that
// race may both pass and overshoot the quota by one message each. A quota
// is a storage-planning tool, not a security boundary, so this is accepted.
package quota

import (
	"context"
	"errors"
	"fmt"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Unlimited is the limit of a user without a quota.
const Unlimited int64 = -1

// Limit returns the effective quota of u in bytes, or Unlimited: u.Quota
// when set (> 0), Unlimited when u.Quota is store.QuotaUnlimited, else def
// (def <= 0 means unlimited).
func Limit(u store.User, def int64) int64 {
	switch {
	case u.Quota > 0:
		return u.Quota
	case u.Quota == store.QuotaUnlimited, def <= 0:
		return Unlimited
	}
	return def
}

// ErrOverQuota is matched (errors.Is) by every *OverError.
var ErrOverQuota = errors.New("quota: over quota")

// OverError says that storing Incoming more bytes would take the user over
// Limit. It is permanent for the message (fault.IsPermanent is false on
// purpose: the user may free space, so deliveries retry).
type OverError struct {
	Address  string
	Usage    int64
	Incoming int64
	Limit    int64
}

func (e *OverError) Error() string {
	return fmt.Sprintf("quota: %s over quota: %d used + %d incoming > %d", e.Address, e.Usage, e.Incoming, e.Limit)
}

// Is makes errors.Is(err, ErrOverQuota) true.
func (e *OverError) Is(target error) bool { return target == ErrOverQuota }

// Check returns an *OverError when storing incoming more bytes for u would
// exceed its quota: usage + incoming > limit, or, with incoming 0 (size
// unknown), usage >= limit. It returns nil for an unlimited user without
// reading the usage. A storage error is returned wrapped.
func Check(ctx context.Context, mbs store.Mailboxes, u store.User, def, incoming int64) error {
	limit := Limit(u, def)
	if limit == Unlimited {
		return nil
	}
	usage, err := mbs.Usage(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("quota: usage of %s: %w", u.Address, err)
	}
	if usage+incoming > limit || (incoming == 0 && usage >= limit) {
		return &OverError{Address: u.Address, Usage: usage, Incoming: incoming, Limit: limit}
	}
	return nil
}
