package imapgw

import (
	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/quota"
)

// quotaRoot is the one quota root of a user (RFC 9208 section 3.2): every
// mailbox of the user is under it, as the storage quota counts them all.
const quotaRoot = ""

// errNoQuotaRoot answers GETQUOTA for a root that does not exist.
var errNoQuotaRoot = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent,
	Text: "No such quota root"}

// errSetQuota refuses SETQUOTA: quotas are set by the operator
// (bucketmail user quota, --default-quota), not by the user.
var errSetQuota = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNoPerm,
	Text: "Quotas are set by the administrator"}

// getQuotaRoot answers GETQUOTAROOT (RFC 9208 section 4.3): the user's
// root and its QUOTA, or no root for a user without a limit.
func (s *session) getQuotaRoot(cmd *wire.Command) error {
	a := cmd.Args.(*wire.MailboxArg)
	name, err := s.mailboxName(a.Mailbox)
	if err != nil {
		return err
	}
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, name)
	if err != nil {
		return s.protoErr("getquotaroot", err, nil)
	}
	usage, limit, err := s.storageQuota()
	if err != nil {
		return err
	}
	w := s.conn.Writer().Start().Atom("QUOTAROOT").Mailbox(mb.Name)
	if limit == quota.Unlimited {
		w.End()
		return nil
	}
	w.String(quotaRoot).End()
	s.writeQuota(usage, limit)
	return nil
}

// getQuota answers GETQUOTA (RFC 9208 section 4.2).
func (s *session) getQuota(cmd *wire.Command) error {
	a := cmd.Args.(*wire.GetQuota)
	usage, limit, err := s.storageQuota()
	if err != nil {
		return err
	}
	if a.Root != quotaRoot || limit == quota.Unlimited {
		return errNoQuotaRoot
	}
	s.writeQuota(usage, limit)
	return nil
}

// setQuota refuses SETQUOTA (RFC 9208 section 4.4).
func (s *session) setQuota(cmd *wire.Command) error { return errSetQuota }

// storageQuota returns the user's usage and limit in bytes; the user is
// read again, so that a quota changed during the session shows at once.
// The index keeps no limit on the number of messages, so there is no
// MESSAGE resource to report.
func (s *session) storageQuota() (usage, limit int64, err error) {
	u, err := s.srv.cfg.Store.UserByID(s.ctx, s.user.ID)
	if err != nil {
		return 0, 0, s.protoErr("quota: user", err, errUnavailable)
	}
	limit = quota.Limit(u, s.srv.cfg.DefaultQuota)
	if limit == quota.Unlimited {
		return 0, limit, nil
	}
	if usage, err = s.mailboxes().Usage(s.ctx, s.user.ID); err != nil {
		return 0, 0, s.protoErr("quota: usage", err, nil)
	}
	return usage, limit, nil
}

// writeQuota writes "* QUOTA root (STORAGE used limit)", in KiB (RFC 9208
// section 5.1): usage rounded up, so that a full quota shows as full.
func (s *session) writeQuota(usage, limit int64) {
	s.conn.Writer().Start().Atom("QUOTA").String(quotaRoot).BeginList().
		Atom("STORAGE").Number64(uint64((usage + 1023) / 1024)).Number64(uint64(limit / 1024)).EndList().End()
}
