package imapgw

import (
	"context"
	"errors"
	"log/slog"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Protocol errors with their response codes (RFC 5530 and RFC 9051 section 7.1).
var (
	errNoMailbox = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeNonExistent, Text: "No such mailbox"}
	errTryCreate = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	errExists = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeAlreadyExists, Text: "Mailbox already exists"}
	errCannot = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeCannot, Text: "Operation not permitted on this mailbox"}
	errInUse = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeInUse, Text: "Mailbox in use"}
	errUnavailable = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeUnavailable, Text: "Temporary failure, try again later"}
	errServerBug = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeServerBug, Text: "Internal error"}
	errReadOnly = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeCannot, Text: "Mailbox is read-only"}
	errUseAttr = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: responseCodeUseAttr, Text: "Unsupported special-use attribute"}
	errTooBig = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeTooBig, Text: "Message too big"}
	errOverQuota = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: imap.ResponseCodeOverQuota, Text: "Mailbox quota exceeded"}
	// errLimit is a change past store.MaxKeywords (RFC 5530 LIMIT).
	errLimit = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit,
		Text: "Too many keywords in this mailbox"}
	errExpungeIssued = &imap.Error{Type: imap.StatusResponseTypeNo,
		Code: responseCodeExpungeIssued, Text: "Message was expunged by another session"}
)

// protoErr turns a storage error into the *imap.Error a client sees and logs
// anything that is not the client's doing. notFound is the error for
// store.ErrNotFound (TRYCREATE for a destination mailbox).
func (s *session) protoErr(op string, err error, notFound *imap.Error) error {
	var imapErr *imap.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &imapErr):
		return imapErr
	case errors.Is(err, store.ErrNotFound):
		if notFound == nil {
			notFound = errNoMailbox
		}
		return notFound
	case errors.Is(err, store.ErrExists):
		return errExists
	case errors.Is(err, store.ErrLimit):
		return errLimit
	case errors.Is(err, store.ErrInvalid):
		return errCannot
	case errors.Is(err, store.ErrInUse):
		return errInUse
	case s.ctx.Err() != nil && errors.Is(err, context.Canceled):
		return errGone // the client left: not a failure
	}
	// s.log carries user_id since login.
	s.log.Error("imap storage failure", slog.String("op", op), slog.Any("err", err))
	if fault.IsTemporary(err) || errors.Is(err, context.Canceled) {
		return errUnavailable
	}
	return errServerBug
}

// responseCodeExpungeIssued is RFC 5530 section 3's EXPUNGEISSUED, unknown
// to go-imap.
const responseCodeExpungeIssued imap.ResponseCode = "EXPUNGEISSUED"

// responseCodeUseAttr is RFC 6154 section 6's USEATTR, unknown to go-imap.
const responseCodeUseAttr imap.ResponseCode = "USEATTR"
