package imapgw

import (
	"slices"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// expunge answers EXPUNGE and UID EXPUNGE (RFC 4315 section 2.1). A
// read-only mailbox is never expunged.
func (s *session) expunge(cmd *wire.Command) error {
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	if sel.readOnly {
		return errReadOnly
	}
	var only []uint32 // nil: every \Deleted message
	if a, ok := cmd.Args.(*wire.UIDExpunge); ok {
		if only = sel.uidsAt(sel.resolve(a.Set, true)); len(only) == 0 {
			return nil
		}
	}
	// Objects left without a reference are scheduled for deletion by the
	// store; the collector deletes them a delay later, so that another
	// session may still fetch a message it has not seen expunged.
	expunged, err := s.mailboxes().Expunge(s.ctx, s.user.ID, sel.mb.ID, only)
	if err != nil {
		return s.protoErr("expunge", err, nil)
	}
	if len(expunged) > 0 {
		s.srv.heads.trim(sel.headKey(s.user.ID), len(sel.msgs)-len(expunged))
	}
	write, flush := s.expungeWriter(sel)
	if err := sel.expungeFromView(expunged, write); err != nil {
		return err
	}
	return flush()
}

// writeExpunge writes "* seq EXPUNGE".
func (s *session) writeExpunge(seq uint32) error {
	s.conn.Writer().Start().Number(seq).Atom("EXPUNGE").End()
	return nil
}

// expungeFromView removes uids from the view, calling write with each
// one's sequence number, highest first so that each number is still valid
// when sent (RFC 9051 section 7.5.1).
func (sel *selected) expungeFromView(uids []uint32, write func(seq uint32) error) error {
	if len(uids) == 0 {
		return nil
	}
	gone := slices.Clone(uids)
	slices.Sort(gone)
	var err error
	kept := sel.msgs[:0:0]
	for i := len(sel.msgs) - 1; i >= 0; i-- {
		if _, found := slices.BinarySearch(gone, sel.msgs[i].uid); found {
			if err == nil {
				err = write(uint32(i + 1))
			}
			continue
		}
		kept = append(kept, sel.msgs[i])
	}
	slices.Reverse(kept)
	sel.msgs = kept
	return err
}
