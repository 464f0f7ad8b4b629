package imapgw

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Store answers STORE and UID STORE (RFC 9051 section 6.4.6): replace, add
// or remove flags, then send the new flags unless .SILENT.
func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, _ *imap.StoreOptions) error {
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	if sel.readOnly {
		return errReadOnly
	}
	idx := sel.resolve(numSet)
	if len(idx) == 0 {
		return nil
	}
	var op store.FlagOp
	switch flags.Op {
	case imap.StoreFlagsAdd:
		op = store.FlagsAdd
	case imap.StoreFlagsDel:
		op = store.FlagsRemove
	default:
		op = store.FlagsReplace
	}
	changed, err := s.mailboxes().SetFlags(s.ctx, s.user.ID, sel.mb.ID, sel.uidsAt(idx), op, storeFlags(flags.Flags))
	if err != nil {
		return s.protoErr("store", err, nil)
	}
	for _, m := range changed {
		sel.noteModSeq(m.UID, m.ModSeq)
	}
	if flags.Silent {
		return nil
	}
	// A message another session expunged meanwhile did not change: it is
	// answered with the flags it last had while the head cache still
	// holds them (headCache.trim), else left out; its EXPUNGE follows
	// with the next update.
	_, err = s.fetch(w, sel, idx, &imap.FetchOptions{Flags: true})
	return err
}
