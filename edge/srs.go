package edge

import (
	"context"
	"errors"

	"github.com/bucketmail/bucketmail/internal/srs"
)

// SRSReverser verifies an SRS address and returns the address it stands
// for (srs.Keyring).
type SRSReverser interface {
	Reverse(ctx context.Context, addr string) (string, error)
}

// checkSRS decides on a recipient in SRS form in a local domain: the
// return path of mail we forwarded, to which bounces come. A valid address
// is accepted (the worker sends the message back to the original sender);
// a forged, tampered or expired one gets 550 5.1.1, so that the scheme
// relays nothing but bounces of our own forwards. It reports whether to
// was such an address.
func (s *session) checkSRS(ctx context.Context, tx *transaction, to string) (bool, error) {
	if s.srv.cfg.SRS == nil || !srs.IsSRS(to) {
		return false, nil
	}
	_, err := s.srv.cfg.SRS.Reverse(ctx, to)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, srs.ErrInvalid), errors.Is(err, srs.ErrExpired):
		return true, s.refuse(tx, "srs_invalid", errUnknownUser)
	default:
		return true, s.storageFailure(tx, "srs", err)
	}
}
