package imapgw

import (
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/store"
)

// searchCmd answers SEARCH and UID SEARCH (RFC 9051 section 6.4.4) with
// the ESEARCH return options (RFC 4731) and SAVE (RFC 5182); an IMAP4rev2
// client gets ESEARCH always, and the return options PARTIAL and
// UPDATE of CONTEXT=SEARCH (RFC 5267, context.go). Flags, dates, sizes and header keys are
// matched against the index; only BODY and TEXT read message objects.
func (s *session) searchCmd(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Search)
	switch a.Charset {
	case "", "UTF-8", "US-ASCII":
	default:
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: "BADCHARSET (UTF-8 US-ASCII)", Text: "Unsupported charset"}
	}
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	criteria, err := sel.criteria(&a.Key)
	if err != nil {
		return err
	}
	sel.staticCriteria(criteria)
	withModSeq := hasModSeq(criteria)
	if withModSeq {
		s.enableCondStore(sel)
	}
	var (
		nums           []uint32 // sequence numbers or UIDs, as asked, ascending
		uids           []uint32 // kept for SAVE
		count          int
		minNum, maxNum uint32
		// The highest mod-sequence found, and those of the first and
		// last message (RFC 7162 section 3.1.5, RFC 4731 section 3.2).
		highest, minMod, maxMod uint64
	)
	add := func(pos int, uid uint32, modSeq uint64) {
		num := uid
		if !cmd.UID {
			num = uint32(pos + 1)
		}
		nums = append(nums, num)
		uids = append(uids, uid)
		if minNum == 0 || num < minNum {
			minNum, minMod = num, modSeq
		}
		if num > maxNum {
			maxNum, maxMod = num, modSeq
		}
		highest = max(highest, modSeq)
		count++
	}
	if seen, ok := seenOnly(criteria); ok {
		// SEEN or UNSEEN alone, what clients ask most: answered from the
		// head cache, or for a mailbox too large for it by the index,
		// with UIDs, no entry per message.
		var found []uint32
		if found, err = s.seenUIDs(sel, seen); err != nil {
			return s.protoErr("search", err, nil)
		}
		for _, uid := range found {
			if pos := sel.index(uid); pos >= 0 {
				add(pos, uid, 0) // no MODSEQ key: no mod-sequence needed
			}
		}
	} else {
		var answers map[textKey]textAnswer
		if answers, err = s.textAnswers(sel, criteria); err != nil {
			return s.protoErr("search", err, nil)
		}
		how := listHeads
		if needsSummary(criteria, answers == nil) {
			how = listFull
		}
		all := make([]int, len(sel.msgs))
		for i := range all {
			all[i] = i
		}
		_, err = s.forEach(sel, all, how, func(batch []*msgData) error {
			for _, d := range batch {
				if err := s.gone(); err != nil {
					return err
				}
				ok, err := s.match(d, criteria, answers)
				if err != nil {
					return s.protoErr("search", err, nil)
				}
				if ok {
					add(d.pos, d.m.UID, d.m.ModSeq)
				}
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	slices.Sort(nums)
	slices.Sort(uids)
	ret := a.Return
	if slices.Contains(ret, "SAVE") {
		sel.searchRes = uids
	}
	w := s.conn.Writer()
	if ret == nil && !s.rev2() {
		w.Start().Atom("SEARCH")
		for _, n := range nums {
			w.Number(n)
		}
		if withModSeq && count > 0 {
			w.BeginList().Atom("MODSEQ").Number64(highest).EndList()
		}
		w.End()
		return nil
	}
	if len(ret) == 0 {
		ret = []string{"ALL"} // RFC 4731 section 3.1
	} else if len(ret) == 1 && ret[0] == "SAVE" {
		return nil // RFC 5182 section 2.4: no ESEARCH for SAVE alone
	}
	partial := slices.Contains(ret, "PARTIAL")
	w.ESearch(cmd.Tag, cmd.UID, func(w *wire.Writer) {
		if slices.Contains(ret, "MIN") && count > 0 {
			w.Atom("MIN").Number(minNum)
		}
		if slices.Contains(ret, "MAX") && count > 0 {
			w.Atom("MAX").Number(maxNum)
		}
		if slices.Contains(ret, "ALL") && count > 0 {
			w.Atom("ALL").Atom(uidSet(nums))
		}
		if slices.Contains(ret, "COUNT") {
			w.Atom("COUNT").Number(uint32(count))
		}
		if partial {
			writePartial(w, a.Partial, nums)
		}
		if withModSeq && count > 0 {
			w.Atom("MODSEQ").Number64(esearchModSeq(ret, highest, minMod, maxMod))
		}
	})
	if slices.Contains(ret, "UPDATE") {
		s.addContext(sel, cmd, partial, &searchContext{tag: cmd.Tag, key: a.Key, result: uids})
	}
	return nil
}

// esearchModSeq is the MODSEQ of an ESEARCH response (RFC 4731 section
// 3.2): the mod-sequence of the message MIN or MAX returns when only one
// of them is asked, the higher of the two when both are, else the highest
// of all the messages found.
func esearchModSeq(ret []string, highest, minMod, maxMod uint64) uint64 {
	if slices.Contains(ret, "ALL") || slices.Contains(ret, "COUNT") {
		return highest
	}
	hasMin, hasMax := slices.Contains(ret, "MIN"), slices.Contains(ret, "MAX")
	switch {
	case hasMin && hasMax:
		return max(minMod, maxMod)
	case hasMin:
		return minMod
	case hasMax:
		return maxMod
	}
	return highest
}

// matchSent checks SENTSINCE/SENTBEFORE/SENTON against the Date header
// (RFC 9051 section 6.4.4); a message without one matches none of them.
func matchSent(d *msgData, since, before time.Time) (bool, error) {
	sum, err := d.summary()
	if err != nil {
		return false, err
	}
	return !sum.Date.IsZero() && matchDate(sum.Date, since, before), nil
}

// matchDate compares dates only, "disregarding time and timezone"
// (RFC 9051 section 6.4.4): the date as written in t's own zone.
func matchDate(t, since, before time.Time) bool {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !since.IsZero() && day.Before(dayOf(since)) {
		return false
	}
	if !before.IsZero() && !day.Before(dayOf(before)) {
		return false
	}
	return true
}

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// matchFields reports whether a field contains pattern, case-insensitively,
// after decoding encoded words; an empty pattern matches any such field.
func matchFields(fields gomessage.HeaderFields, pattern string) bool {
	if pattern == "" {
		return fields.Len() > 0
	}
	pattern = strings.ToLower(pattern)
	for fields.Next() {
		v, err := fields.Text()
		if err != nil {
			v = fields.Value()
		}
		if strings.Contains(strings.ToLower(v), pattern) {
			return true
		}
	}
	return false
}

// matchAddresses reports whether pattern is in one of the addresses of
// an address field (From, To, Cc, Bcc) as the envelope has them: a field
// with comments or a source route, "Ann (Sales) <ann(x)@example.org>",
// does not hold "ann@example.org" as written, but its address is that.
// Each address is tried as "mailbox@host", its display name and "name
// <mailbox@host>".
func matchAddresses(d *msgData, field, pattern string) (bool, error) {
	if pattern == "" {
		return false, nil
	}
	sum, err := d.summary()
	if err != nil {
		return false, err
	}
	var list []message.Address
	switch strings.ToLower(field) {
	case "from":
		list = sum.Envelope.From
	case "to":
		list = sum.Envelope.To
	case "cc":
		list = sum.Envelope.Cc
	case "bcc":
		list = sum.Envelope.Bcc
	default:
		return false, nil
	}
	pattern = strings.ToLower(pattern)
	for _, a := range list {
		if a.Host == "" {
			continue // a group's start or end marker
		}
		addr := a.Mailbox + "@" + a.Host
		for _, form := range []string{addr, a.Name, a.Name + " <" + addr + ">"} {
			if strings.Contains(strings.ToLower(form), pattern) {
				return true, nil
			}
		}
	}
	return false, nil
}

// matchEntity reports whether pattern is in the text of the raw message
// (TEXT when withHeader, else BODY), as a search that reads it finds it.
func matchEntity(raw []byte, pattern string, withHeader bool) bool {
	t := search.ScanText(nil, raw)
	return textContains(&t, pattern, withHeader)
}

// seenUIDs returns the UIDs of the selected mailbox with \Seen, or
// without it.
func (s *session) seenUIDs(sel *selected, seen bool) ([]uint32, error) {
	if len(sel.msgs) > s.srv.heads.max {
		return s.mailboxes().SeenUIDs(s.ctx, s.user.ID, sel.mb.ID, seen)
	}
	hs, err := s.cachedHeads(sel, false)
	if err != nil {
		return nil, err
	}
	var uids []uint32
	for _, m := range hs {
		if hasFlag(m.Flags, store.FlagSeen) == seen {
			uids = append(uids, m.UID)
		}
	}
	return uids, nil
}
