package imapgw

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Copy answers COPY and UID COPY (RFC 9051 section 6.4.7) with COPYUID
// (RFC 4315 section 3). A missing destination is NO [TRYCREATE].
func (s *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	dst, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, dest)
	if err != nil {
		return nil, s.protoErr("copy", err, errTryCreate)
	}
	uids := sel.uidsAt(sel.resolve(numSet))
	if len(uids) == 0 {
		return nil, nil
	}
	src, dstUIDs, err := s.mailboxes().CopyMessages(s.ctx, s.user.ID, sel.mb.ID, uids, dst.ID)
	if err != nil {
		return nil, s.protoErr("copy", err, errTryCreate)
	}
	return copyData(dst.UIDValidity, src, dstUIDs), nil
}

// Move answers MOVE and UID MOVE (RFC 6851): COPYUID first, then an
// EXPUNGE per moved message.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	if sel.readOnly {
		return errReadOnly
	}
	dst, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, dest)
	if err != nil {
		return s.protoErr("move", err, errTryCreate)
	}
	uids := sel.uidsAt(sel.resolve(numSet))
	if len(uids) == 0 {
		return nil
	}
	src, dstUIDs, err := s.mailboxes().MoveMessages(s.ctx, s.user.ID, sel.mb.ID, uids, dst.ID)
	if err != nil {
		return s.protoErr("move", err, errTryCreate)
	}
	if data := copyData(dst.UIDValidity, src, dstUIDs); data != nil {
		if err := w.WriteCopyData(data); err != nil {
			return err
		}
	}
	return sel.expungeFromView(src, w.WriteExpunge)
}

// copyData is the COPYUID data for pairwise source and destination UIDs,
// or nil when nothing was copied.
func copyData(uidValidity uint32, src, dst []uint32) *imap.CopyData {
	if len(src) == 0 {
		return nil
	}
	data := &imap.CopyData{UIDValidity: uidValidity}
	for i := range src {
		data.SourceUIDs.AddNum(imap.UID(src[i]))
		data.DestUIDs.AddNum(imap.UID(dst[i]))
	}
	return data
}
