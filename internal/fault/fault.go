// Package fault classifies storage errors as temporary or permanent.
//
// Every driver wraps the errors that retrying cannot fix with Permanent, so
// that callers can decide between "try again later" (SMTP 4xx, queue retry)
// and "give up" (5xx, bounce) without knowing which backend produced the error.
// Unclassified errors are temporary: losing mail to an unknown failure is worse
// than retrying it.
package fault

import "errors"

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as permanent: retrying the same operation cannot help.
// It returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether any error in err's chain was marked permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// IsTemporary reports whether err is a failure that may go away by itself.
func IsTemporary(err error) bool {
	return err != nil && !IsPermanent(err)
}
