package imapgw

import (
	"slices"
	"strconv"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// CONDSTORE and QRESYNC (RFC 7162). Every mailbox has mod-sequences (the
// store gives each change the mailbox's next HighestModSeq), so NOMODSEQ
// is never sent. A resync reads the index's change list (MessageHeads
// with changedSince) and its tombstones (Vanished), never an object.

var (
	errQResyncNotEnabled = &imap.Error{Type: imap.StatusResponseTypeBad,
		Text: "QRESYNC needs ENABLE QRESYNC first"}
)

// condStore reports whether CONDSTORE is on for the connection: by
// ENABLE, or by the first command that used it (RFC 7162 section 3.1).
func (s *session) condStore() bool { return s.conn.Enabled("CONDSTORE") }

// qresync reports whether the client enabled QRESYNC.
func (s *session) qresync() bool { return s.conn.Enabled("QRESYNC") }

// enable answers ENABLE CONDSTORE and ENABLE QRESYNC, which implies
// CONDSTORE (RFC 7162 section 3.2.3) (engine.Config.Enable).
func (srv *Server) enable(c *engine.Conn, capability string) []string {
	switch capability {
	case "CONDSTORE", "QRESYNC":
	default:
		return nil
	}
	if c.State() == engine.NotAuthenticated || c.Enabled(capability) {
		return nil
	}
	s := at(c)
	c.Enable(capability)
	s.mu.Lock()
	s.enableCondStore(s.sel)
	s.mu.Unlock()
	return []string{capability}
}

// enableCondStore turns CONDSTORE on, at the first command that uses it.
// In the selected state the client learns the mailbox's HIGHESTMODSEQ
// then, as SELECT would have told it (RFC 7162 section 3.1). The caller
// holds s.mu; sel may be nil.
func (s *session) enableCondStore(sel *selected) {
	if s.condStore() {
		return
	}
	s.conn.Enable("CONDSTORE")
	if sel != nil {
		s.conn.Writer().Status("*", "OK", "HIGHESTMODSEQ "+u64(sel.modSeq), "Highest")
	}
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// resync answers the QRESYNC parameter of SELECT (RFC 7162 section
// 3.2.5): VANISHED (EARLIER) for the known UIDs expunged since the
// client's mod-sequence, above those the message sequence match data
// shows the client knows all about, then FETCH (UID FLAGS MODSEQ) for the
// messages changed since. A UIDVALIDITY other than the mailbox's makes the
// data meaningless, and it is ignored. uids are the mailbox's UIDs,
// ascending.
func (s *session) resync(sel *selected, uids []uint32, q *wire.QResync) error {
	if q.UIDValidity != sel.mb.UIDValidity {
		return nil
	}
	known := wire.NumSet{Ranges: []wire.NumRange{{Start: 1, Stop: wire.Star}}}
	if q.KnownUIDs != nil {
		known = *q.KnownUIDs
	}
	var floor uint32
	if q.SeqMatch != nil {
		floor = seqMatchFloor(uids, q.SeqMatch)
	}
	if err := s.vanishedEarlier(sel, uids, known, q.ModSeq, floor); err != nil {
		return err
	}
	changed, err := s.mailboxes().MessageHeads(s.ctx, s.user.ID, sel.mb.ID, 1, 0, q.ModSeq)
	if err != nil {
		return s.protoErr("select qresync", err, nil)
	}
	w := s.conn.Writer()
	for _, m := range changed {
		i := sel.index(m.UID)
		if i < 0 {
			continue // arrived after the view was made
		}
		sel.msgs[i].modSeq = max(sel.msgs[i].modSeq, m.ModSeq)
		f := w.Fetch(uint32(i + 1))
		f.UID(m.UID)
		f.Flags(m.Flags)
		f.ModSeq(m.ModSeq)
		f.End()
	}
	return nil
}

// seqMatchFloor is the highest UID up to which the client knows every
// expunge, by its message sequence match data (RFC 7162 section
// 3.2.5.2): the n-th sequence number of m[0] is the message the client
// knew as the n-th UID of m[1] (wire checked that they pair up). A pair
// that still holds says that as many messages as before have a UID up to
// its own, so none of them was expunged unseen; the pairs are taken in
// order up to the first that no longer holds, since past it the client's
// numbers are stale. present are the mailbox's UIDs, ascending. A pair
// holds only for a sequence number within present, so at most
// len(present)+1 pairs are looked at however large the sets.
func seqMatchFloor(present []uint32, m *[2]wire.NumSet) uint32 {
	var floor uint32
	seqs, uids := numbers(m[0]), numbers(m[1])
	for {
		seq, ok := seqs()
		uid, ok2 := uids()
		if !ok || !ok2 || seq == 0 || int(seq) > len(present) || present[seq-1] != uid {
			return floor
		}
		floor = uid
	}
}

// numbers iterates over the numbers of an ascending set without "*".
func numbers(set wire.NumSet) func() (uint32, bool) {
	i, next := 0, uint64(0)
	return func() (uint32, bool) {
		for i < len(set.Ranges) {
			r := set.Ranges[i]
			lo, hi := uint64(min(r.Start, r.Stop)), uint64(max(r.Start, r.Stop))
			next = max(next, lo)
			if next <= hi {
				n := next
				next++
				return uint32(n), true
			}
			i++
		}
		return 0, false
	}
}

// vanishedEarlier writes "* VANISHED (EARLIER) uids" for the UIDs of set
// above floor expunged since the mod-sequence since (RFC 7162 section
// 3.2.5.1 and 3.2.6). When the tombstones no longer reach back that far,
// it is every UID of set above floor and below UIDNEXT that is not in the
// mailbox: still correct, if longer. present are the mailbox's UIDs,
// ascending, or nil to read them when needed. "*" in set is the highest
// UID of the view; UIDs past UIDNEXT are ignored.
func (s *session) vanishedEarlier(sel *selected, present []uint32, set wire.NumSet, since uint64, floor uint32) error {
	gone, complete, err := s.mailboxes().Vanished(s.ctx, s.user.ID, sel.mb.ID, since)
	if err != nil {
		return s.protoErr("vanished", err, nil)
	}
	limit := max(sel.mb.UIDNext, sel.maxUID+1) - 1 // the highest UID the client can know
	var out wire.NumSet
	if complete {
		for _, uid := range gone {
			if uid > floor && uid <= limit && set.Contains(uid, sel.maxUID) {
				out.Ranges = appendUID(out.Ranges, uid)
			}
		}
	} else {
		if present == nil {
			if present, err = s.mailboxes().UIDs(s.ctx, s.user.ID, sel.mb.ID); err != nil {
				return s.protoErr("vanished", err, nil)
			}
		}
		out.Ranges = above(missing(set, sel.maxUID, limit, present), floor)
	}
	if len(out.Ranges) > 0 {
		s.conn.Writer().Vanished(true, out)
	}
	return nil
}

// above returns the part of ascending ranges rs above floor.
func above(rs []wire.NumRange, floor uint32) []wire.NumRange {
	for len(rs) > 0 && rs[0].Stop <= floor {
		rs = rs[1:]
	}
	if len(rs) > 0 && rs[0].Start <= floor {
		rs[0].Start = floor + 1
	}
	return rs
}

// appendUID adds uid, larger than any before, to ascending ranges.
func appendUID(rs []wire.NumRange, uid uint32) []wire.NumRange {
	if n := len(rs); n > 0 && rs[n-1].Stop+1 == uid {
		rs[n-1].Stop = uid
		return rs
	}
	return append(rs, wire.NumRange{Start: uid, Stop: uid})
}

// missing returns, as ascending ranges, the numbers of set ("*" is star)
// up to limit that are not in present (ascending). It walks the ranges
// and the present UIDs, never number by number, so a set as wide as
// 1:4294967295 costs what the mailbox holds.
func missing(set wire.NumSet, star, limit uint32, present []uint32) []wire.NumRange {
	var spans []wire.NumRange
	for _, r := range set.Ranges {
		lo, hi := staticRange(r.Start, r.Stop, star)
		if lo == 0 {
			lo = 1
		}
		if hi > limit {
			hi = limit
		}
		if lo <= hi {
			spans = append(spans, wire.NumRange{Start: lo, Stop: hi})
		}
	}
	slices.SortFunc(spans, func(a, b wire.NumRange) int { return int(int64(a.Start) - int64(b.Start)) })
	var out []wire.NumRange
	add := func(lo, hi uint32) {
		if n := len(out); n > 0 && out[n-1].Stop >= lo-1 {
			out[n-1].Stop = max(out[n-1].Stop, hi)
			return
		}
		out = append(out, wire.NumRange{Start: lo, Stop: hi})
	}
	for _, sp := range spans {
		next := uint64(sp.Start)
		i, _ := slices.BinarySearch(present, sp.Start)
		for ; i < len(present) && present[i] <= sp.Stop; i++ {
			if uint64(present[i]) > next {
				add(uint32(next), present[i]-1)
			}
			next = uint64(present[i]) + 1
		}
		if next <= uint64(sp.Stop) {
			add(uint32(next), sp.Stop)
		}
	}
	return out
}

// expungeWriter returns the write function of expungeFromView and what to
// call after it: "* n EXPUNGE" for each message, or once QRESYNC is on a
// single "* VANISHED uids" (RFC 7162 section 3.2.10), which does the same
// to the sequence numbers.
func (s *session) expungeWriter(sel *selected) (write func(seq uint32) error, flush func() error) {
	if !s.qresync() {
		return s.writeExpunge, func() error { return nil }
	}
	var uids []uint32
	write = func(seq uint32) error {
		uids = append(uids, sel.msgs[seq-1].uid) // the view is unchanged until the end
		return nil
	}
	flush = func() error {
		if len(uids) > 0 {
			slices.Sort(uids)
			var set wire.NumSet
			for _, uid := range uids {
				set.Ranges = appendUID(set.Ranges, uid)
			}
			s.conn.Writer().Vanished(false, set)
		}
		return nil
	}
	return write, flush
}

// fetchChangedSince answers FETCH with CHANGEDSINCE (RFC 7162 section
// 3.1.4.1), and with VANISHED for UID FETCH (section 3.2.6): only the
// messages of the set whose mod-sequence is above the one given, found by
// the index's change list. UID, FLAGS and MODSEQ are written from that
// list; other items are fetched as usual for those messages.
func (s *session) fetchChangedSince(sel *selected, cmd *wire.Command, a *wire.Fetch) error {
	if a.Vanished {
		if err := s.vanishedEarlier(sel, nil, a.Set, a.ChangedSince, 0); err != nil {
			return err
		}
	}
	idx := sel.resolve(a.Set, cmd.UID)
	if len(idx) == 0 {
		return nil
	}
	first, last := sel.msgs[idx[0]].uid, sel.msgs[idx[len(idx)-1]].uid
	changed, err := s.mailboxes().MessageHeads(s.ctx, s.user.ID, sel.mb.ID, first, last, a.ChangedSince)
	if err != nil {
		return s.protoErr("fetch changedsince", err, nil)
	}
	var hit []int
	var heads []store.Message
	for _, m := range changed {
		i := sel.index(m.UID)
		if _, ok := slices.BinarySearch(idx, i); i < 0 || !ok {
			continue
		}
		hit = append(hit, i)
		heads = append(heads, m)
	}
	items := a.Items
	simple, flags := true, false
	for _, it := range items {
		switch it.Name {
		case "UID", "MODSEQ":
		case "FLAGS":
			flags = true
		default:
			simple = false
		}
	}
	if !simple {
		items = append(slices.Clone(items), wire.FetchItem{Name: "MODSEQ"})
		missed, err := s.fetch(sel, hit, items)
		if err == nil && missed > 0 {
			return errExpungeIssued
		}
		return err
	}
	w := s.conn.Writer()
	for k, m := range heads {
		i := hit[k]
		f := w.Fetch(uint32(i + 1))
		f.UID(m.UID)
		if flags {
			f.Flags(m.Flags)
			sel.msgs[i].modSeq = max(sel.msgs[i].modSeq, m.ModSeq)
		}
		f.ModSeq(m.ModSeq)
		f.End()
	}
	return nil
}

// setModified puts [MODIFIED set] in the tagged OK of a conditional STORE
// (sequence numbers, or UIDs for UID STORE) and returns idx without the
// positions of the modified UIDs.
func (s *session) setModified(sel *selected, cmd *wire.Command, idx []int, modified []uint32) []int {
	var set wire.NumSet
	kept := idx[:0:0]
	for _, i := range idx {
		uid := sel.msgs[i].uid
		if _, ok := slices.BinarySearch(modified, uid); !ok {
			kept = append(kept, i)
			continue
		}
		n := uid
		if !cmd.UID {
			n = uint32(i + 1)
		}
		set.Ranges = appendUID(set.Ranges, n)
	}
	s.conn.SetOK("MODIFIED "+set.String(), "Conditional STORE failed")
	return kept
}

// writeModSeqs tells the client the new mod-sequences of a silent STORE
// once CONDSTORE is on (RFC 7162 section 3.1.3): its cache must learn
// them even though it knows the flags.
func (s *session) writeModSeqs(sel *selected, changed []store.Message) {
	w := s.conn.Writer()
	for _, m := range changed {
		i := sel.index(m.UID)
		if i < 0 {
			continue
		}
		f := w.Fetch(uint32(i + 1))
		f.UID(m.UID)
		f.ModSeq(m.ModSeq)
		f.End()
	}
}
