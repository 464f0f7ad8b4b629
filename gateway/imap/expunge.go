package imapgw

import (
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Expunge answers EXPUNGE, UID EXPUNGE (RFC 4315 section 2.1) and the
// silent expunge of CLOSE (RFC 9051 section 6.4.2), which imapserver makes
// with a zero ExpungeWriter. A read-only mailbox is never expunged: CLOSE
// then just closes it, EXPUNGE fails.
func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	closing := *w == imapserver.ExpungeWriter{}
	if sel.readOnly {
		if closing {
			return nil
		}
		return errReadOnly
	}
	var only []uint32 // nil: every \Deleted message
	if uids != nil {
		if only = sel.uidsAt(sel.resolve(*uids)); len(only) == 0 {
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
	return sel.expungeFromView(expunged, w.WriteExpunge)
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
