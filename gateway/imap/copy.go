package imapgw

import (
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/quota"
)

// copyCmd answers COPY and UID COPY (RFC 9051 section 6.4.7) with COPYUID
// (RFC 4315 section 3), and MOVE and UID MOVE (RFC 6851): COPYUID first,
// then an EXPUNGE per moved message. A missing destination is NO
// [TRYCREATE]; a copy that would take the user over quota is NO
// [OVERQUOTA].
func (s *session) copyCmd(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Copy)
	move := cmd.Name == "MOVE"
	dest, err := s.mailboxName(a.Mailbox)
	if err != nil {
		return err
	}
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	if move && sel.readOnly {
		return errReadOnly
	}
	dst, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, dest)
	if err != nil {
		return s.protoErr(cmd.Name, err, errTryCreate)
	}
	idx := sel.resolve(a.Set, cmd.UID)
	if len(idx) == 0 {
		return nil
	}
	uids := sel.uidsAt(idx)
	if !move {
		if err := s.checkCopyQuota(sel, uids); err != nil {
			return err
		}
	}
	var src, dstUIDs []uint32
	if move {
		src, dstUIDs, err = s.mailboxes().MoveMessages(s.ctx, s.user.ID, sel.mb.ID, uids, dst.ID)
	} else {
		src, dstUIDs, err = s.mailboxes().CopyMessages(s.ctx, s.user.ID, sel.mb.ID, uids, dst.ID)
	}
	if err != nil {
		return s.protoErr(cmd.Name, err, errTryCreate)
	}
	if len(src) == 0 {
		return nil
	}
	code := "COPYUID " + itoa32(dst.UIDValidity) + " " + uidSet(src) + " " + uidSet(dstUIDs)
	if !move {
		s.conn.SetOK(code, cmd.FullName()+" completed")
		return nil
	}
	s.conn.Writer().Status("*", "OK", code, "Moved")
	write, flush := s.expungeWriter(sel)
	if err := sel.expungeFromView(src, write); err != nil {
		return err
	}
	return flush()
}

// uidSet writes UIDs as a sequence set, in their order, joining runs.
func uidSet(uids []uint32) string {
	var set wire.NumSet
	for _, u := range uids {
		if n := len(set.Ranges); n > 0 && set.Ranges[n-1].Stop+1 == u {
			set.Ranges[n-1].Stop = u
			continue
		}
		set.Ranges = append(set.Ranges, wire.NumRange{Start: u, Stop: u})
	}
	return set.String()
}

// checkCopyQuota refuses a COPY whose copies would take the user over its
// quota (RFC 9208 section 4.3): each copy counts in the usage. A MOVE adds
// nothing to the usage and is never refused, so that a user over quota can
// still clear a mailbox into Trash.
func (s *session) checkCopyQuota(sel *selected, uids []uint32) error {
	u, err := s.srv.cfg.Store.UserByID(s.ctx, s.user.ID)
	if err != nil {
		return s.protoErr("copy: quota", err, errUnavailable)
	}
	if quota.Limit(u, s.srv.cfg.DefaultQuota) == quota.Unlimited {
		return nil
	}
	hs, err := s.cachedHeads(sel, false)
	if err != nil {
		return s.protoErr("copy: quota", err, nil)
	}
	var size int64
	for _, uid := range uids {
		if j := findHead(hs, 0, uid); j >= 0 {
			size += hs[j].Size
		}
	}
	return s.quotaCheck("copy", u, size)
}
