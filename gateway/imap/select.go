package imapgw

import (
	"errors"
	"strconv"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// utf8Names reports whether the client's mailbox names are UTF-8 (ENABLE
// UTF8=ACCEPT, RFC 6855, or IMAP4rev2) rather than modified UTF-7.
func (s *session) utf8Names() bool {
	return s.conn.Enabled("UTF8=ACCEPT") || s.conn.Enabled("IMAP4REV2")
}

// rev2 reports whether the client enabled IMAP4rev2.
func (s *session) rev2() bool { return s.conn.Enabled("IMAP4REV2") }

// mailboxName decodes a mailbox name as the client sent it (RFC 3501
// section 5.1.3, RFC 6855 section 3): an invalid one, or an 8-bit one from
// a client that has not enabled UTF-8, is NO [CANNOT].
func (s *session) mailboxName(raw string) (string, error) {
	name, err := wire.DecodeMailbox(raw, s.utf8Names())
	if err != nil {
		text := "Invalid mailbox name"
		if errors.Is(err, wire.ErrMailbox8Bit) {
			text = "8-bit mailbox name without ENABLE UTF8=ACCEPT"
		}
		return "", &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: text}
	}
	return name, nil
}

// selectCmd opens a mailbox (SELECT, or EXAMINE when read-only): RFC 9051
// section 6.3.2. The view is the mailbox's UIDs at this moment.
func (s *session) selectCmd(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Select)
	if a.QResync != nil && !s.qresync() {
		return errQResyncNotEnabled // RFC 7162 section 3.2.5
	}
	if a.CondStore || a.QResync != nil {
		s.conn.Enable("CONDSTORE") // RFC 7162 section 3.1
	}
	readOnly := cmd.Name == "EXAMINE"
	w := s.conn.Writer()
	// Selecting another mailbox closes the one selected, without
	// expunging (RFC 9051 section 6.3.2; CLOSED: RFC 7162 section 3.2.11).
	if s.conn.State() == engine.Selected {
		s.mu.Lock()
		s.sel = nil
		s.mu.Unlock()
		s.conn.SetState(engine.Authenticated)
		w.Status("*", "OK", "CLOSED", "Previous mailbox closed")
	}
	name, err := s.mailboxName(a.Mailbox)
	if err != nil {
		return err
	}
	defer s.watch()()
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, name)
	if err != nil {
		return s.protoErr("select", err, nil)
	}
	uids, err := s.mailboxes().UIDs(s.ctx, s.user.ID, mb.ID)
	if err != nil {
		return s.protoErr("select", err, nil)
	}
	sel := newSelected(mb, uids, readOnly)
	s.mu.Lock()
	s.sel = sel
	s.mu.Unlock()

	uidNext := mb.UIDNext
	if uidNext <= sel.maxUID {
		uidNext = sel.maxUID + 1
	}
	s.claimRecent(sel)
	w.Start().Number(uint32(len(uids))).Atom("EXISTS").End()
	if !s.rev2() {
		w.Start().Number(sel.recentCount()).Atom("RECENT").End()
	}
	w.Status("*", "OK", "UIDVALIDITY "+itoa32(mb.UIDValidity), "UIDs valid")
	w.Status("*", "OK", "UIDNEXT "+itoa32(uidNext), "Predicted next UID")
	s.writeFlags(sel, mb.Keywords)
	if s.condStore() {
		w.Status("*", "OK", "HIGHESTMODSEQ "+u64(mb.HighestModSeq), "Highest")
	}
	w.Status("*", "OK", "MAILBOXID ("+mb.ID+")", "Mailbox ID") // RFC 8474 section 4.2
	// RFC 9051 section 6.3.2: a LIST response with the mailbox's name.
	if s.rev2() {
		w.List(false, specialUseAttrs(mb), store.Delimiter, mb.Name, nil)
	}
	if a.QResync != nil {
		if err := s.resync(sel, uids, a.QResync); err != nil {
			s.mu.Lock()
			s.sel = nil
			s.mu.Unlock()
			return err
		}
	}
	s.conn.SetState(engine.Selected)
	if readOnly {
		s.conn.SetOK("READ-ONLY", cmd.Name+" completed")
	} else {
		s.conn.SetOK("READ-WRITE", cmd.Name+" completed")
	}
	return nil
}

// unselect leaves the selected state (UNSELECT, RFC 3691).
func (s *session) unselect(cmd *wire.Command) error {
	s.mu.Lock()
	s.sel = nil
	s.mu.Unlock()
	s.conn.SetState(engine.Authenticated)
	return nil
}

// closeCmd expunges the \Deleted messages silently, unless the mailbox is
// read-only, and leaves the selected state (RFC 9051 section 6.4.2).
func (s *session) closeCmd(cmd *wire.Command) error {
	sel := s.lock()
	var err error
	if !sel.readOnly {
		var expunged []uint32
		expunged, err = s.mailboxes().Expunge(s.ctx, s.user.ID, sel.mb.ID, nil)
		if len(expunged) > 0 {
			s.srv.heads.trim(sel.headKey(s.user.ID), len(sel.msgs)-len(expunged))
		}
	}
	s.sel = nil
	s.mu.Unlock()
	s.conn.SetState(engine.Authenticated)
	return s.protoErr("close", err, nil)
}

// lock locks the session for a command and returns the selected mailbox
// (the engine runs selected-state commands only when there is one). The
// caller unlocks s.mu.
func (s *session) lock() *selected {
	s.mu.Lock()
	return s.sel
}

func itoa32(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
