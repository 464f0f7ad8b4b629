package imapgw

import (
	"slices"
	"sort"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"

	"github.com/bucketmail/bucketmail/internal/store"
)

// selected is the session's view of its selected mailbox: the messages the
// client knows, in sequence-number order (so msgs[i] is sequence number
// i+1), each with the mod-sequence its flags were last reported at.
// Messages appear in the view only when EXISTS was sent and leave it only
// when EXPUNGE was sent (RFC 9051 section 7.5.1), so sequence numbers stay
// what the client thinks they are between updates.
type selected struct {
	mb       store.Mailbox // ID and UIDValidity are what matter; Name follows renames
	readOnly bool
	msgs     []viewMsg
	// maxUID is the highest UID ever in the view: anything above it is new.
	maxUID uint32
	// modSeq is the mailbox HighestModSeq the view is synced with.
	modSeq uint64
	// ownModSeq is the highest mod-sequence of the session's own changes
	// (STORE, FETCH setting \Seen): what it reads of the index must be
	// complete up to it too, or it would answer with the flags from before
	// its change.
	ownModSeq uint64
	// expungePending says messages left the index that the client has not
	// been told of yet, so a poll is due even if nothing else changed.
	expungePending bool
	searchRes      []uint32 // SEARCHRES "$" (RFC 5182), ascending UIDs
	// contexts are the searches kept up to date (RFC 5267, context.go),
	// run again when the mailbox's HighestModSeq passes ctxModSeq; they
	// end with the selection.
	contexts  []*searchContext
	ctxModSeq uint64
	// keywords are the keywords of the last FLAGS response.
	keywords []string
	// recent are the UIDs this session claimed as \Recent (recent.go).
	recent []uidRange
}

type viewMsg struct {
	uid    uint32
	modSeq uint64
}

// headKey names the selected mailbox in the head cache.
func (sel *selected) headKey(userID string) headKey {
	return headKey{userID: userID, mailboxID: sel.mb.ID, uidValidity: sel.mb.UIDValidity}
}

func newSelected(mb store.Mailbox, uids []uint32, readOnly bool) *selected {
	sel := &selected{mb: mb, readOnly: readOnly, modSeq: mb.HighestModSeq}
	sel.msgs = make([]viewMsg, len(uids))
	for i, uid := range uids {
		// Every message's ModSeq is <= HighestModSeq read before the UIDs.
		sel.msgs[i] = viewMsg{uid: uid, modSeq: mb.HighestModSeq}
	}
	if n := len(uids); n > 0 {
		sel.maxUID = uids[n-1]
	}
	return sel
}

// index returns the position of uid in the view, or -1.
func (sel *selected) index(uid uint32) int {
	i := sort.Search(len(sel.msgs), func(i int) bool { return sel.msgs[i].uid >= uid })
	if i < len(sel.msgs) && sel.msgs[i].uid == uid {
		return i
	}
	return -1
}

// uidsAt returns the UIDs at the given positions.
func (sel *selected) uidsAt(idx []int) []uint32 {
	uids := make([]uint32, len(idx))
	for i, j := range idx {
		uids[i] = sel.msgs[j].uid
	}
	return uids
}

// resolve returns the view positions set names, ascending and without
// duplicates: UIDs with uid, else sequence numbers. "*" is the last
// sequence number or the highest UID in the view (RFC 9051 section 9,
// seq-number); "$" is the saved search result (RFC 5182). Numbers beyond
// the view are ignored.
func (sel *selected) resolve(set wire.NumSet, uid bool) []int {
	var idx []int
	if set.Saved {
		for _, u := range sel.searchRes {
			if i := sel.index(u); i >= 0 {
				idx = append(idx, i)
			}
		}
		return idx
	}
	if !uid {
		n := uint32(len(sel.msgs))
		for _, r := range set.Ranges {
			start, stop := staticRange(r.Start, r.Stop, n)
			if start == 0 {
				start = 1
			}
			for seq := start; seq <= stop && seq <= n; seq++ {
				idx = append(idx, int(seq-1))
			}
		}
		return uniqueSorted(idx)
	}
	var max uint32
	if n := len(sel.msgs); n > 0 {
		max = sel.msgs[n-1].uid
	}
	for _, r := range set.Ranges {
		start, stop := staticRange(r.Start, r.Stop, max)
		i := sort.Search(len(sel.msgs), func(i int) bool { return sel.msgs[i].uid >= start })
		for ; i < len(sel.msgs) && sel.msgs[i].uid <= stop; i++ {
			idx = append(idx, i)
		}
	}
	return uniqueSorted(idx)
}

// staticRange replaces "*" (0) by max; a range is the same either way round.
func staticRange(start, stop, max uint32) (uint32, uint32) {
	if start == 0 {
		start = max
	}
	if stop == 0 {
		stop = max
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

func uniqueSorted(idx []int) []int {
	slices.Sort(idx)
	return slices.Compact(idx)
}

// runs splits ascending positions into runs of consecutive positions of at
// most max each, so each run is one range query on the index.
func runs(idx []int, max int) [][]int {
	var out [][]int
	start := 0
	for i := 1; i <= len(idx); i++ {
		if i == len(idx) || idx[i] != idx[i-1]+1 || i-start >= max {
			out = append(out, idx[start:i])
			start = i
		}
	}
	return out
}

// noteModSeq records that the client has been told uid's flags as of
// modSeq, a change of the session's own.
func (sel *selected) noteModSeq(uid uint32, modSeq uint64) {
	sel.ownModSeq = max(sel.ownModSeq, modSeq)
	if i := sel.index(uid); i >= 0 && modSeq > sel.msgs[i].modSeq {
		sel.msgs[i].modSeq = modSeq
	}
}
