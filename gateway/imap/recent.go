package imapgw

import (
	"log/slog"
	"sort"
)

// uidRange is a claim of \Recent: UIDs first..last.
type uidRange struct{ first, last uint32 }

// claimRecent claims the mailbox's messages that no session has seen as
// \Recent yet (RFC 3501 section 2.3.2) for an IMAP4rev1 session that
// selected it read-write: of all sessions in any gateway, exactly one
// gets each message (store.ClaimRecent). EXAMINE claims nothing, and
// IMAP4rev2 has no \Recent. A failure only costs the flag: it is logged.
func (s *session) claimRecent(sel *selected) {
	if sel.readOnly || s.rev2() {
		return
	}
	first, last, err := s.mailboxes().ClaimRecent(s.ctx, s.user.ID, sel.mb.ID)
	if err != nil {
		s.log.Warn("imap: claim \\Recent", slog.Any("err", err))
		return
	}
	if first == 0 {
		return
	}
	if n := len(sel.recent); n > 0 && sel.recent[n-1].last+1 >= first {
		sel.recent[n-1].last = max(sel.recent[n-1].last, last)
		return
	}
	sel.recent = append(sel.recent, uidRange{first, last})
}

// isRecent reports whether uid is \Recent in this session.
func (sel *selected) isRecent(uid uint32) bool {
	for _, r := range sel.recent {
		if r.first <= uid && uid <= r.last {
			return true
		}
	}
	return false
}

// recentCount is the number of messages in the view that are \Recent in
// this session: the RECENT response.
func (sel *selected) recentCount() uint32 {
	var n int
	for _, r := range sel.recent {
		i := sort.Search(len(sel.msgs), func(i int) bool { return sel.msgs[i].uid >= r.first })
		j := sort.Search(len(sel.msgs), func(i int) bool { return sel.msgs[i].uid > r.last })
		n += j - i
	}
	return uint32(n)
}

// withRecent returns flags with \Recent added when uid is \Recent here.
func (sel *selected) withRecent(uid uint32, flags []string) []string {
	if !sel.isRecent(uid) {
		return flags
	}
	return append(flags[:len(flags):len(flags)], flagRecent)
}
