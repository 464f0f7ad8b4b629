package imapgw

import (
	"log/slog"
	"slices"
	"strconv"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/sortthread"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// maxContexts caps the searches a session keeps up to date (RFC 5267
// section 4.1): each is run again on every change of the mailbox.
const maxContexts = 8

// searchContext is a SEARCH or SORT with the UPDATE return option (RFC
// 5267 section 4.3) while its mailbox stays selected: its program and the
// result the client was last told of.
type searchContext struct {
	tag    string
	key    wire.SearchKey
	sort   []sortthread.Criterion // nil for a SEARCH
	need   sortNeed
	result []uint32 // UIDs: ascending for a SEARCH, in sort order for a SORT
}

// partialRange returns the part of result at positions r.Start to r.Stop
// (1-based, RFC 5267 section 4.4), what of it exists.
func partialRange(result []uint32, r wire.NumRange) []uint32 {
	lo, hi := int(r.Start)-1, int(r.Stop)
	if lo >= len(result) {
		return nil
	}
	return result[lo:min(hi, len(result))]
}

// writePartial writes "PARTIAL (lo:hi set)", NIL for an empty part.
func writePartial(w *wire.Writer, r wire.NumRange, result []uint32) {
	w.Atom("PARTIAL").BeginList().Atom(strconv.FormatUint(uint64(r.Start), 10) + ":" + strconv.FormatUint(uint64(r.Stop), 10))
	if part := partialRange(result, r); len(part) > 0 {
		w.Atom(uidSet(part))
	} else {
		w.Nil()
	}
	w.EndList()
}

// updatable reports whether a program means the same each time it is run
// and is answered from the index alone: sequence numbers shift with
// expunges and "$" with the next SAVE, and BODY and TEXT read objects.
func updatable(k *wire.SearchKey) bool {
	switch k.Name {
	case "SEQSET", "BODY", "TEXT":
		return false
	case "UID":
		if k.Set != nil && k.Set.Saved {
			return false
		}
	}
	for i := range k.Keys {
		if !updatable(&k.Keys[i]) {
			return false
		}
	}
	return true
}

// addContext keeps c up to date from now on, replacing a context of the
// same tag, or answers NOUPDATE (RFC 5267 section 4.1) when it cannot be:
// a search by sequence numbers (the updates are in UIDs), with PARTIAL, a
// program that is not updatable, or one context too many.
func (s *session) addContext(sel *selected, cmd *wire.Command, partial bool, c *searchContext) {
	sel.contexts = slices.DeleteFunc(sel.contexts, func(o *searchContext) bool { return o.tag == c.tag })
	var why string
	switch {
	case !cmd.UID:
		why = "Updates are sent for UID SEARCH and UID SORT only"
	case partial:
		why = "Updates are not sent for a partial result"
	case !updatable(&c.key):
		why = "Updates are not sent for searches by sequence number, $, BODY or TEXT"
	case len(sel.contexts) >= maxContexts:
		why = "Too many search contexts"
	}
	if why != "" {
		s.conn.Writer().Status("*", "NO", noUpdate(c.tag), why)
		return
	}
	if len(sel.contexts) == 0 {
		sel.ctxModSeq = sel.modSeq
	}
	sel.contexts = append(sel.contexts, c)
}

func noUpdate(tag string) string { return `NOUPDATE "` + tag + `"` }

// cancelUpdate answers CANCELUPDATE (RFC 5267 section 4.5): the searches
// of the tags given are no longer kept up to date.
func (s *session) cancelUpdate(cmd *wire.Command) error {
	a := cmd.Args.(*wire.CancelUpdate)
	sel := s.lock()
	defer s.mu.Unlock()
	for _, tag := range a.Tags {
		if !slices.ContainsFunc(sel.contexts, func(c *searchContext) bool { return c.tag == tag }) {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "No search context with tag " + strconv.Quote(tag)}
		}
	}
	for _, tag := range a.Tags {
		sel.contexts = slices.DeleteFunc(sel.contexts, func(c *searchContext) bool { return c.tag == tag })
	}
	return nil
}

// updateContexts runs each search context again when the mailbox changed
// since they last ran (modSeq) and tells the client how their results
// changed (RFC 5267 section 4.3), from the index alone. A context that
// fails is dropped with NOUPDATE.
func (s *session) updateContexts(sel *selected, modSeq uint64) {
	if len(sel.contexts) == 0 || modSeq == sel.ctxModSeq {
		return
	}
	sel.ctxModSeq = modSeq
	w := s.conn.Writer()
	for _, c := range slices.Clone(sel.contexts) {
		now, err := s.contextResult(sel, c)
		if err != nil {
			s.log.Warn("imap search context", slog.String("tag", c.tag), slog.Any("err", err))
			sel.contexts = slices.DeleteFunc(sel.contexts, func(o *searchContext) bool { return o == c })
			w.Status("*", "NO", noUpdate(c.tag), "Search context dropped")
			continue
		}
		if c.sort == nil {
			writeSearchUpdate(w, c.tag, c.result, now)
		} else {
			writeSortUpdate(w, c.tag, c.result, now)
		}
		c.result = now
	}
}

// contextResult runs c's program on the view as it is now.
func (s *session) contextResult(sel *selected, c *searchContext) ([]uint32, error) {
	if c.sort != nil {
		msgs, err := s.sortMessages(sel, &c.key, true, c.need)
		if err != nil {
			return nil, err
		}
		return sortthread.Sort(msgs, c.sort), nil
	}
	criteria, err := sel.criteria(&c.key)
	if err != nil {
		return nil, err
	}
	sel.staticCriteria(criteria)
	how := listHeads
	if needsSummary(criteria, false) {
		how = listFull
	}
	all := make([]int, len(sel.msgs))
	for i := range all {
		all[i] = i
	}
	var uids []uint32
	_, err = s.forEach(sel, all, how, func(batch []*msgData) error {
		for _, d := range batch {
			ok, err := s.match(d, criteria, nil)
			if err != nil {
				return err
			}
			if ok {
				uids = append(uids, d.m.UID)
			}
		}
		return nil
	})
	slices.Sort(uids)
	return uids, err
}

// writeSearchUpdate writes how a SEARCH result changed from old to now
// (both ascending): "REMOVEFROM (0 uids)" and "ADDTO (0 uids)", position
// 0 as a SEARCH result has no order of its own (RFC 5267 section 4.3.1).
func writeSearchUpdate(w *wire.Writer, tag string, old, now []uint32) {
	var added, removed []uint32
	i, j := 0, 0
	for i < len(old) || j < len(now) {
		switch {
		case j == len(now) || (i < len(old) && old[i] < now[j]):
			removed = append(removed, old[i])
			i++
		case i == len(old) || now[j] < old[i]:
			added = append(added, now[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	w.ESearch(tag, true, func(w *wire.Writer) {
		if len(removed) > 0 {
			w.Atom("REMOVEFROM").BeginList().Number(0).Atom(uidSet(removed)).EndList()
		}
		if len(added) > 0 {
			w.Atom("ADDTO").BeginList().Number(0).Atom(uidSet(added)).EndList()
		}
	})
}

// sortStep is one change of a SORT result: uids taken out at position pos
// (1-based) one after the other, or put in at pos, pos+1 and on.
type sortStep struct {
	add  bool
	pos  int
	uids []uint32
}

// sortSteps returns how a SORT result changed from old to now (both in
// sort order) as steps the client applies in turn (RFC 5267 section
// 4.3.2): first the removals, each at its position in the list as it is
// then, then the additions. The messages both hold keep their order (what
// a SORT orders by does not change), so after the removals the list is a
// part of now, and each addition goes to its place in now.
func sortSteps(old, now []uint32) []sortStep {
	in := make(map[uint32]bool, len(now))
	for _, u := range now {
		in[u] = true
	}
	var steps []sortStep
	kept := make(map[uint32]bool, len(old))
	pos := 0
	for _, u := range old {
		if !in[u] {
			steps = append(steps, sortStep{pos: pos + 1, uids: []uint32{u}})
			continue
		}
		kept[u] = true
		pos++
	}
	for i := 0; i < len(now); {
		if kept[now[i]] {
			i++
			continue
		}
		j := i
		for j < len(now) && !kept[now[j]] {
			j++
		}
		steps = append(steps, sortStep{add: true, pos: i + 1, uids: now[i:j]})
		i = j
	}
	return steps
}

// writeSortUpdate writes the steps from old to now, "REMOVEFROM (p uid)"
// and "ADDTO (p uids)", an ESEARCH each.
func writeSortUpdate(w *wire.Writer, tag string, old, now []uint32) {
	for _, st := range sortSteps(old, now) {
		w.ESearch(tag, true, func(w *wire.Writer) {
			name := "REMOVEFROM"
			if st.add {
				name = "ADDTO"
			}
			w.Atom(name).BeginList().Number(uint32(st.pos)).Atom(uidSet(st.uids)).EndList()
		})
	}
}
