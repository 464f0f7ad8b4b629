package imapgw

import (
	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Select opens a mailbox (SELECT, or EXAMINE when read-only): RFC 9051
// section 6.3.2. The view is the mailbox's UIDs at this moment.
func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	defer s.watch()()
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, name)
	if err != nil {
		return nil, s.protoErr("select", err, nil)
	}
	uids, err := s.mailboxes().UIDs(s.ctx, s.user.ID, mb.ID)
	if err != nil {
		return nil, s.protoErr("select", err, nil)
	}
	sel := newSelected(mb, uids, options.ReadOnly)
	s.mu.Lock()
	s.sel = sel
	s.mu.Unlock()

	uidNext := mb.UIDNext
	if uidNext <= sel.maxUID {
		uidNext = sel.maxUID + 1
	}
	data := &imap.SelectData{
		Flags:       mailboxFlags(),
		NumMessages: uint32(len(uids)),
		UIDNext:     imap.UID(uidNext),
		UIDValidity: mb.UIDValidity,
	}
	if !options.ReadOnly {
		data.PermanentFlags = append(mailboxFlags(), imap.FlagWildcard)
	}
	// RFC 9051 section 6.3.2: a LIST response with the mailbox's name.
	if s.conn.EnabledCaps().Has(imap.CapIMAP4rev2) {
		data.List = &imap.ListData{Mailbox: mb.Name, Delim: store.Delimiter, Attrs: specialUseAttrs(mb)}
	}
	return data, nil
}

// Unselect leaves the selected state (UNSELECT, and CLOSE after Expunge).
func (s *session) Unselect() error {
	s.mu.Lock()
	s.sel = nil
	s.mu.Unlock()
	return nil
}

// lock locks the session for a command and returns the selected mailbox
// (imapserver calls selected-state methods only when there is one). The
// caller unlocks s.mu.
func (s *session) lock() *selected {
	s.mu.Lock()
	return s.sel
}
