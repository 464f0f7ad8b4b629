package imapgw

import (
	"reflect"
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
// client gets ESEARCH always. Flags, dates, sizes and header keys are
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
	var highest uint64 // the highest mod-sequence found (RFC 7162 section 3.1.5)
	var (
		nums           []uint32 // sequence numbers or UIDs, as asked, ascending
		uids           []uint32 // kept for SAVE
		count          int
		minNum, maxNum uint32
	)
	add := func(pos int, uid uint32) {
		num := uid
		if !cmd.UID {
			num = uint32(pos + 1)
		}
		nums = append(nums, num)
		uids = append(uids, uid)
		if minNum == 0 || num < minNum {
			minNum = num
		}
		maxNum = max(maxNum, num)
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
				add(pos, uid)
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
					add(d.pos, d.m.UID)
					highest = max(highest, d.m.ModSeq)
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
		if withModSeq && count > 0 {
			w.Atom("MODSEQ").Number64(highest)
		}
	})
	return nil
}

// criteria turns a search key into the criteria matched; "$" is the
// saved result (RFC 5182). Keys not answered are BAD.
func (sel *selected) criteria(k *wire.SearchKey) (*imap.SearchCriteria, error) {
	c := &imap.SearchCriteria{}
	notSupported := func() error {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "SEARCH " + k.Name + " is not supported"}
	}
	switch k.Name {
	case "AND":
		for i := range k.Keys {
			sub, err := sel.criteria(&k.Keys[i])
			if err != nil {
				return nil, err
			}
			c.And(sub)
			if sub.ModSeq != nil && (c.ModSeq == nil || sub.ModSeq.ModSeq > c.ModSeq.ModSeq) {
				c.ModSeq = sub.ModSeq // And leaves it out
			}
		}
	case "NOT":
		sub, err := sel.criteria(&k.Keys[0])
		if err != nil {
			return nil, err
		}
		c.Not = []imap.SearchCriteria{*sub}
	case "OR":
		a, err := sel.criteria(&k.Keys[0])
		if err != nil {
			return nil, err
		}
		b, err := sel.criteria(&k.Keys[1])
		if err != nil {
			return nil, err
		}
		c.Or = [][2]imap.SearchCriteria{{*a, *b}}
	case "SEQSET", "UID":
		switch {
		case k.Set.Saved:
			var set imap.UIDSet
			for _, uid := range sel.searchRes {
				set.AddNum(imap.UID(uid))
			}
			if set == nil {
				set = imap.UIDSet{}
			}
			c.UID = []imap.UIDSet{set}
		case k.Name == "UID":
			var set imap.UIDSet
			for _, r := range k.Set.Ranges {
				set.AddRange(imap.UID(r.Start), imap.UID(r.Stop))
			}
			c.UID = []imap.UIDSet{set}
		default:
			var set imap.SeqSet
			for _, r := range k.Set.Ranges {
				set.AddRange(r.Start, r.Stop)
			}
			c.SeqNum = []imap.SeqSet{set}
		}
	case "ALL":
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN":
		c.Flag = []imap.Flag{imap.Flag(`\` + titleCase(k.Name))}
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		c.NotFlag = []imap.Flag{imap.Flag(`\` + titleCase(k.Name[2:]))}
	case "RECENT":
		c.Flag = []imap.Flag{flagRecent}
	case "NEW":
		c.Flag, c.NotFlag = []imap.Flag{flagRecent}, []imap.Flag{imap.FlagSeen}
	case "OLD":
		c.NotFlag = []imap.Flag{flagRecent}
	case "KEYWORD":
		c.Flag = []imap.Flag{imap.Flag(k.Value)}
	case "UNKEYWORD":
		c.NotFlag = []imap.Flag{imap.Flag(k.Value)}
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		c.Header = []imap.SearchCriteriaHeaderField{{Key: titleCase(k.Name), Value: k.Value}}
	case "HEADER":
		c.Header = []imap.SearchCriteriaHeaderField{{Key: k.Field, Value: k.Value}}
	case "BODY":
		c.Body = []string{k.Value}
	case "TEXT":
		c.Text = []string{k.Value}
	case "LARGER":
		c.Larger = int64(k.Number)
	case "SMALLER":
		c.Smaller = int64(k.Number)
	case "BEFORE":
		c.Before = k.Date
	case "SINCE":
		c.Since = k.Date
	case "ON":
		c.Since, c.Before = k.Date, k.Date.AddDate(0, 0, 1)
	case "SENTBEFORE":
		c.SentBefore = k.Date
	case "SENTSINCE":
		c.SentSince = k.Date
	case "SENTON":
		c.SentSince, c.SentBefore = k.Date, k.Date.AddDate(0, 0, 1)
	case "MODSEQ":
		// RFC 7162 section 3.1.5: the entry name and type only narrow
		// which flag's mod-sequence counts; a message has one for all.
		c.ModSeq = &imap.SearchCriteriaModSeq{ModSeq: k.Number}
	default:
		return nil, notSupported()
	}
	return c, nil
}

// titleCase is "SEEN" as "Seen", "FROM" as "From".
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return s[:1] + strings.ToLower(s[1:])
}

// staticCriteria replaces "*" in sequence and UID sets by the last message
// and "$" by the saved result, at every level of the criteria.
func (sel *selected) staticCriteria(c *imap.SearchCriteria) {
	n := uint32(len(sel.msgs))
	var maxUID uint32
	if n > 0 {
		maxUID = sel.msgs[n-1].uid
	}
	for i, set := range c.SeqNum {
		static := make(imap.SeqSet, len(set))
		for j, r := range set {
			static[j].Start, static[j].Stop = staticRange(r.Start, r.Stop, n)
		}
		c.SeqNum[i] = static
	}
	for i, set := range c.UID {
		static := make(imap.UIDSet, len(set))
		for j, r := range set {
			start, stop := staticRange(uint32(r.Start), uint32(r.Stop), maxUID)
			static[j].Start, static[j].Stop = imap.UID(start), imap.UID(stop)
		}
		c.UID[i] = static
	}
	for i := range c.Not {
		sel.staticCriteria(&c.Not[i])
	}
	for i := range c.Or {
		sel.staticCriteria(&c.Or[i][0])
		sel.staticCriteria(&c.Or[i][1])
	}
}

// seenOnly reports whether c is SEEN or UNSEEN and nothing else.
func seenOnly(c *imap.SearchCriteria) (seen, ok bool) {
	rest := *c
	rest.Flag, rest.NotFlag = nil, nil
	if !reflect.DeepEqual(rest, imap.SearchCriteria{}) {
		return false, false
	}
	switch {
	case len(c.Flag) == 1 && len(c.NotFlag) == 0 && strings.EqualFold(string(c.Flag[0]), string(imap.FlagSeen)):
		return true, true
	case len(c.NotFlag) == 1 && len(c.Flag) == 0 && strings.EqualFold(string(c.NotFlag[0]), string(imap.FlagSeen)):
		return false, true
	}
	return false, false
}

// needsSummary reports whether matching c reads index summaries or
// prefixes (the Date and header fields, the body when there is no text
// index); flags, dates, sizes and numbers need neither.
func needsSummary(c *imap.SearchCriteria, bodies bool) bool {
	if len(c.Header) > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() || (bodies && (len(c.Body) > 0 || len(c.Text) > 0)) {
		return true
	}
	for i := range c.Not {
		if needsSummary(&c.Not[i], bodies) {
			return true
		}
	}
	for i := range c.Or {
		if needsSummary(&c.Or[i][0], bodies) || needsSummary(&c.Or[i][1], bodies) {
			return true
		}
	}
	return false
}

// match evaluates c against one message, cheapest keys first so that the
// body is read only when everything else matched and the text index
// (answers) could not tell.
func (s *session) match(d *msgData, c *imap.SearchCriteria, answers map[textKey]textAnswer) (bool, error) {
	seq, uid := uint32(d.pos+1), imap.UID(d.m.UID)
	for _, set := range c.SeqNum {
		if !set.Contains(seq) {
			return false, nil
		}
	}
	for _, set := range c.UID {
		if !set.Contains(uid) {
			return false, nil
		}
	}
	if !matchDate(d.m.InternalDate, c.Since, c.Before) {
		return false, nil
	}
	flags := d.sel.withRecent(d.m.UID, d.m.Flags)
	for _, f := range c.Flag {
		if !hasFlag(flags, string(f)) {
			return false, nil
		}
	}
	for _, f := range c.NotFlag {
		if hasFlag(flags, string(f)) {
			return false, nil
		}
	}
	if c.ModSeq != nil && d.m.ModSeq < c.ModSeq.ModSeq {
		return false, nil
	}
	if c.Larger > 0 && d.m.Size <= c.Larger {
		return false, nil
	}
	if c.Smaller > 0 && d.m.Size >= c.Smaller {
		return false, nil
	}
	if ok, err := matchSent(d, c); !ok || err != nil {
		return false, err
	}
	if len(c.Header) > 0 {
		h, err := d.header()
		if err != nil {
			return false, err
		}
		mh := gomessage.Header{Header: h}
		for _, f := range c.Header {
			if matchFields(mh.FieldsByKey(f.Key), f.Value) {
				continue
			}
			if ok, err := matchAddresses(d, f.Key, f.Value); !ok || err != nil {
				return false, err
			}
		}
	}
	for i := range c.Not {
		ok, err := s.match(d, &c.Not[i], answers)
		if ok || err != nil {
			return false, err
		}
	}
	for i := range c.Or {
		ok, err := s.match(d, &c.Or[i][0], answers)
		if err != nil {
			return false, err
		}
		if !ok {
			if ok, err = s.match(d, &c.Or[i][1], answers); !ok || err != nil {
				return false, err
			}
		}
	}
	return s.matchText(d, c, answers)
}

// matchSent checks SENTSINCE/SENTBEFORE/SENTON against the Date header
// (RFC 9051 section 6.4.4); a message without one matches none of them.
func matchSent(d *msgData, c *imap.SearchCriteria) (bool, error) {
	if c.SentSince.IsZero() && c.SentBefore.IsZero() {
		return true, nil
	}
	sum, err := d.summary()
	if err != nil {
		return false, err
	}
	return !sum.Date.IsZero() && matchDate(sum.Date, c.SentSince, c.SentBefore), nil
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
