package imapgw

import (
	"strings"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// storeCmd answers STORE and UID STORE (RFC 9051 section 6.4.6): replace,
// add or remove flags, then send the new flags unless .SILENT. With
// UNCHANGEDSINCE (RFC 7162 section 3.1.3) the messages changed since are
// left alone and named in [MODIFIED].
func (s *session) storeCmd(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Store)
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	if a.UnchangedSince != nil {
		s.enableCondStore(sel)
	}
	if sel.readOnly {
		return errReadOnly
	}
	idx := sel.resolve(a.Set, cmd.UID)
	if len(idx) == 0 {
		return nil
	}
	var op store.FlagOp
	switch a.Op {
	case wire.StoreAdd:
		op = store.FlagsAdd
	case wire.StoreRemove:
		op = store.FlagsRemove
	default:
		op = store.FlagsReplace
	}
	var (
		changed  []store.Message
		modified []uint32
		err      error
	)
	if a.UnchangedSince != nil {
		// The test and the change are one step of the store, so a
		// concurrent STORE of another session is either before (and the
		// message is in [MODIFIED]) or after.
		changed, modified, err = s.mailboxes().SetFlagsUnchangedSince(s.ctx, s.user.ID, sel.mb.ID,
			sel.uidsAt(idx), op, storeFlags(a.Flags), *a.UnchangedSince)
	} else {
		changed, err = s.mailboxes().SetFlags(s.ctx, s.user.ID, sel.mb.ID, sel.uidsAt(idx), op, storeFlags(a.Flags))
	}
	if err != nil {
		return s.protoErr("store", err, nil)
	}
	if len(modified) > 0 {
		idx = s.setModified(sel, cmd, idx, modified)
	}
	for _, m := range changed {
		sel.noteModSeq(m.UID, m.ModSeq)
	}
	// A new keyword: FLAGS first, before the FETCH responses that carry
	// it (RFC 9051 section 7.3.5).
	if op != store.FlagsRemove && hasNewKeyword(sel.keywords, a.Flags) {
		if mb, err := s.selectedMailbox(sel); err == nil && sel.newKeywords(mb.Keywords) {
			s.writeFlags(sel, mb.Keywords)
		}
	}
	if a.Silent {
		if s.condStore() {
			s.writeModSeqs(sel, changed)
		}
		return nil
	}
	// A message another session expunged meanwhile did not change: it is
	// answered with the flags it last had while the head cache still
	// holds them (headCache.trim), else left out; its EXPUNGE follows
	// with the next update.
	_, err = s.fetch(sel, idx, flagsOnly)
	return err
}

// hasNewKeyword reports whether flags has a keyword not in known.
func hasNewKeyword(known, flags []string) bool {
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !hasFlag(known, f) {
			return true
		}
	}
	return false
}

// flagsOnly is the FETCH of a non-silent STORE.
var flagsOnly = []wire.FetchItem{{Name: "FLAGS"}}
