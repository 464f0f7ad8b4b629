package imapgw

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/internal/store"
)

// poll reports what changed in the selected mailbox since the client last
// heard (engine.Config.Poll): EXPUNGE (when allowed: not after FETCH,
// STORE and SEARCH, RFC 9051 section 7.5.1), EXISTS for new messages and
// FETCH FLAGS for flag changes made by other sessions or processes.
// Storage failures are only logged: the command itself succeeded.
func (srv *Server) poll(_ context.Context, c *engine.Conn, allowExpunge bool) error {
	return at(c).poll(allowExpunge)
}

func (s *session) poll(allowExpunge bool) error {
	sel := s.lock()
	defer s.mu.Unlock()
	if sel == nil {
		return nil
	}
	return s.sync(sel, allowExpunge)
}

// idle reports changes as they happen (RFC 2177) until stop closes
// (engine.Config.Idle), flushing each report. Any process that changes the
// user's mailboxes wakes Watch. Without a selected mailbox there is
// nothing to report (no NOTIFY, RFC 5465), so a client idling in the
// authenticated state costs no subscription.
func (srv *Server) idle(_ context.Context, c *engine.Conn, stop <-chan struct{}) error {
	s := c.Session().(*session)
	s.mu.Lock()
	selected := s.sel != nil
	s.mu.Unlock()
	if !selected {
		<-stop
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	changes := s.mailboxes().Watch(ctx, s.user.ID)
	report := func() error {
		if err := s.poll(true); err != nil {
			return err
		}
		c.Writer().Flush() // a write error ends the read of DONE too
		return nil
	}
	if err := report(); err != nil {
		return err
	}
	for {
		select {
		case <-stop:
			return nil
		case _, ok := <-changes:
			if !ok {
				changes = nil // the server is closing; wait for stop
				continue
			}
			if err := report(); err != nil {
				return err
			}
		}
	}
}

// sync brings sel up to date with the index and tells the client.
func (s *session) sync(sel *selected, allowExpunge bool) error {
	w := s.conn.Writer()
	mb, err := s.selectedMailbox(sel)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted by another session; commands will fail
	}
	if err != nil {
		s.log.Warn("imap poll", slog.Any("err", err))
		return nil
	}
	sel.mb.Name = mb.Name
	if sel.newKeywords(mb.Keywords) {
		s.writeFlags(sel, mb.Keywords)
	}
	if mb.HighestModSeq == sel.modSeq && !(sel.expungePending && allowExpunge) {
		s.updateContexts(sel, mb.HighestModSeq) // after the session's own changes
		return nil
	}
	changed, err := s.mailboxes().MessageHeads(s.ctx, s.user.ID, mb.ID, 1, 0, sel.modSeq)
	if err != nil {
		s.log.Warn("imap poll", slog.Any("err", err))
		return nil
	}
	uids, ok := sel.uidsWithout(changed, mb.Messages)
	if !ok {
		// Something left the mailbox, or the counts come from different
		// moments: read the whole list. The head cache keeps the heads of
		// what left, for the sessions that have not reported it yet, up
		// to a bound (headCache.trim).
		s.srv.heads.trim(sel.headKey(s.user.ID), int(mb.Messages))
		if uids, err = s.mailboxes().UIDs(s.ctx, s.user.ID, mb.ID); err != nil {
			s.log.Warn("imap poll", slog.Any("err", err))
			return nil
		}
	}
	write, flush := s.expungeWriter(sel)
	if err := sel.reportExpunges(uids, allowExpunge, write); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	firstNew := len(sel.msgs)
	if sel.addNew(uids) > 0 {
		w.Start().Number(uint32(len(sel.msgs))).Atom("EXISTS").End()
		if !s.rev2() {
			s.claimRecent(sel)
			w.Start().Number(sel.recentCount()).Atom("RECENT").End()
		}
	}
	for _, m := range changed {
		i := sel.index(m.UID)
		if i < 0 || m.ModSeq <= sel.msgs[i].modSeq {
			continue
		}
		isNew := sel.msgs[i].modSeq == 0
		sel.msgs[i].modSeq = m.ModSeq
		if isNew {
			continue // the client learns its flags by fetching it
		}
		f := w.Fetch(uint32(i + 1))
		f.UID(m.UID)
		f.Flags(sel.withRecent(m.UID, m.Flags))
		if s.condStore() {
			f.ModSeq(m.ModSeq) // RFC 7162 section 3.1.4.1
		}
		f.End()
	}
	for i := firstNew; i < len(sel.msgs); i++ {
		if sel.msgs[i].modSeq == 0 { // expunged before Messages saw it
			sel.msgs[i].modSeq = mb.HighestModSeq
		}
	}
	sel.modSeq = mb.HighestModSeq
	s.updateContexts(sel, mb.HighestModSeq)
	return nil
}

// uidsWithout returns the mailbox's UIDs without reading them all, when the
// change list shows that nothing left it: every message added since the
// view's mod-sequence is in changed (its ModSeq is newer), so if the view
// plus those equals the mailbox's message count, no message of the view
// was expunged. Otherwise, or with expunges still to report, ok is false.
func (sel *selected) uidsWithout(changed []store.Message, count uint32) (uids []uint32, ok bool) {
	if sel.expungePending {
		return nil, false
	}
	var added []uint32
	for _, m := range changed {
		if m.UID > sel.maxUID {
			added = append(added, m.UID)
		}
	}
	if len(sel.msgs)+len(added) != int(count) {
		return nil, false
	}
	slices.Sort(added)
	uids = make([]uint32, 0, count)
	for _, m := range sel.msgs {
		uids = append(uids, m.uid)
	}
	return append(uids, added...), true
}

// reportExpunges removes from the view what is no longer in the index
// (uids, ascending). When expunges may not be sent now it only notes them.
func (sel *selected) reportExpunges(uids []uint32, allowExpunge bool, write func(uint32) error) error {
	var gone []uint32
	for _, m := range sel.msgs {
		if _, ok := slices.BinarySearch(uids, m.uid); !ok {
			gone = append(gone, m.uid)
		}
	}
	sel.expungePending = len(gone) > 0 && !allowExpunge
	if !allowExpunge {
		return nil
	}
	return sel.expungeFromView(gone, write)
}

// addNew appends UIDs above maxUID to the view with mod-sequence 0 (not
// reported yet) and returns how many there were.
func (sel *selected) addNew(uids []uint32) int {
	i, _ := slices.BinarySearch(uids, sel.maxUID+1)
	for _, uid := range uids[i:] {
		sel.msgs = append(sel.msgs, viewMsg{uid: uid})
	}
	if n := len(uids); n > i {
		sel.maxUID = uids[n-1]
	}
	return len(uids) - i
}

// selectedMailbox reads the selected mailbox's status, following a rename
// by another session through its stable ID.
func (s *session) selectedMailbox(sel *selected) (store.Mailbox, error) {
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, sel.mb.Name)
	if err == nil && mb.ID == sel.mb.ID {
		return mb, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Mailbox{}, err
	}
	all, err := s.mailboxes().ListMailboxes(s.ctx, s.user.ID)
	if err != nil {
		return store.Mailbox{}, err
	}
	for _, mb := range all {
		if mb.ID == sel.mb.ID {
			return mb, nil
		}
	}
	return store.Mailbox{}, store.ErrNotFound
}
