package imapgw

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/sortthread"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/message"
)

// sortKeys maps the sort keys wire accepts to sortthread's.
var sortKeys = map[string]sortthread.Key{
	"ARRIVAL": sortthread.Arrival, "CC": sortthread.Cc, "DATE": sortthread.Date,
	"FROM": sortthread.From, "SIZE": sortthread.Size, "SUBJECT": sortthread.Subject,
	"TO": sortthread.To, "DISPLAYFROM": sortthread.DisplayFrom, "DISPLAYTO": sortthread.DisplayTo,
}

// sortNeed is what of each message a SORT or THREAD orders by.
type sortNeed int

const (
	needHeads      sortNeed = iota // arrival and size: the head cache has them
	needSummary                    // dates, subject, addresses: the sort-key cache, else the summary
	needReferences                 // and Message-ID and References (THREAD=REFERENCES)
)

// errBadCharset is the answer to a SEARCH, SORT or THREAD in a charset
// other than UTF-8 and US-ASCII (RFC 9051 section 6.4.4).
var errBadCharset = &imap.Error{Type: imap.StatusResponseTypeNo, Code: "BADCHARSET (UTF-8 US-ASCII)", Text: "Unsupported charset"}

// sortCmd answers SORT and UID SORT (RFC 5256 section 3), with the ESORT
// return options (RFC 5267 section 3): MIN and MAX are the first and last
// message in the sort order, ALL the matches in that order; PARTIAL and
// UPDATE (CONTEXT=SORT, RFC 5267 section 4, context.go) take positions in
// that order too. Messages are selected by the search matcher and ordered
// by what the index holds of them (the head cache, the sort keys made from
// the summaries); no object is read.
func (s *session) sortCmd(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Sort)
	if !knownCharset(a.Charset) {
		return errBadCharset
	}
	if len(a.Criteria) == 0 {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "SORT needs at least one sort key"}
	}
	criteria := make([]sortthread.Criterion, len(a.Criteria))
	need := needHeads
	for i, c := range a.Criteria {
		k, ok := sortKeys[c.Key]
		if !ok {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown sort key " + c.Key}
		}
		criteria[i] = sortthread.Criterion{Key: k, Reverse: c.Reverse}
		if k != sortthread.Arrival && k != sortthread.Size {
			need = needSummary
		}
	}
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	msgs, err := s.sortMessages(sel, &a.Key, cmd.UID, need)
	if err != nil {
		return err
	}
	ids := sortthread.Sort(msgs, criteria)
	ret := a.Return
	if slices.Contains(ret, "SAVE") {
		uids := make([]uint32, len(msgs))
		for i := range msgs {
			uids[i] = msgs[i].ID
			if !cmd.UID {
				uids[i] = sel.msgs[msgs[i].ID-1].uid
			}
		}
		sel.searchRes = uids // msgs are in mailbox order: ascending UIDs
	}
	w := s.conn.Writer()
	if ret == nil {
		w.Start().Atom("SORT")
		for _, id := range ids {
			w.Number(id)
		}
		w.End()
		return nil
	}
	if len(ret) == 0 {
		ret = []string{"ALL"} // RFC 4731 section 3.1, as RFC 5267 section 3.2 says
	} else if len(ret) == 1 && ret[0] == "SAVE" {
		return nil // RFC 5182 section 2.4: no ESEARCH for SAVE alone
	}
	partial := slices.Contains(ret, "PARTIAL")
	w.ESearch(cmd.Tag, cmd.UID, func(w *wire.Writer) {
		if slices.Contains(ret, "MIN") && len(ids) > 0 {
			w.Atom("MIN").Number(ids[0])
		}
		if slices.Contains(ret, "MAX") && len(ids) > 0 {
			w.Atom("MAX").Number(ids[len(ids)-1])
		}
		if slices.Contains(ret, "ALL") && len(ids) > 0 {
			w.Atom("ALL").Atom(uidSet(ids))
		}
		if slices.Contains(ret, "COUNT") {
			w.Atom("COUNT").Number(uint32(len(ids)))
		}
		if partial {
			writePartial(w, a.Partial, ids) // positions in the sort order
		}
	})
	if slices.Contains(ret, "UPDATE") {
		s.addContext(sel, cmd, partial, &searchContext{tag: cmd.Tag, key: a.Key, sort: criteria, need: need, result: ids})
	}
	return nil
}

// threadCmd answers THREAD and UID THREAD (RFC 5256 section 3) with the
// ORDEREDSUBJECT and REFERENCES algorithms, from the index as SORT is.
func (s *session) threadCmd(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Thread)
	var need sortNeed
	switch a.Algorithm {
	case "ORDEREDSUBJECT":
		need = needSummary
	case "REFERENCES":
		need = needReferences
	default:
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown thread algorithm " + a.Algorithm}
	}
	if !knownCharset(a.Charset) {
		return errBadCharset
	}
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	msgs, err := s.sortMessages(sel, &a.Key, cmd.UID, need)
	if err != nil {
		return err
	}
	var threads []*sortthread.Thread
	if need == needReferences {
		threads = sortthread.References(msgs)
	} else {
		threads = sortthread.OrderedSubject(msgs)
	}
	w := s.conn.Writer()
	w.Start().Atom("THREAD")
	if len(threads) > 0 {
		w.Atom(sortthread.Format(threads))
	}
	w.End()
	return nil
}

func knownCharset(charset string) bool {
	switch charset {
	case "UTF-8", "US-ASCII":
		return true
	}
	return false
}

// sortMessages returns the messages of the selected mailbox that match
// key, in mailbox order, with what need asks for; IDs are UIDs when uid,
// else sequence numbers. Arrival and size come with the heads; the rest
// from the server's sort-key cache, or else from the summaries, which are
// then listed for the messages missing from it only.
func (s *session) sortMessages(sel *selected, key *wire.SearchKey, uid bool, need sortNeed) ([]sortthread.Message, error) {
	criteria, err := sel.criteria(key)
	if err != nil {
		return nil, err
	}
	sel.staticCriteria(criteria)
	answers, err := s.textAnswers(sel, criteria)
	if err != nil {
		return nil, s.protoErr("sort", err, nil)
	}
	how := listHeads
	if needsSummary(criteria, answers == nil) {
		how = listFull
	}
	all := make([]int, len(sel.msgs))
	for i := range all {
		all[i] = i
	}
	msgs := make([]sortthread.Message, 0, len(all))
	var matched []*msgData
	_, err = s.forEach(sel, all, how, func(batch []*msgData) error {
		matched = matched[:0]
		for _, d := range batch {
			if err := s.gone(); err != nil {
				return err
			}
			ok, err := s.match(d, criteria, answers)
			if err != nil {
				return s.protoErr("sort", err, nil)
			}
			if ok {
				matched = append(matched, d)
			}
		}
		var entries []*sortEntry
		if need != needHeads {
			if entries, err = s.sortEntries(sel, matched, need == needReferences); err != nil {
				return err
			}
		}
		for i, d := range matched {
			m := sortthread.Message{ID: uint32(d.pos + 1), Arrival: d.m.InternalDate, Size: d.m.Size}
			if uid {
				m.ID = d.m.UID
			}
			if entries != nil {
				e := entries[i]
				m.Sent, m.Keys, m.MessageID, m.References = e.sent, &e.keys, e.messageID, e.refs
			}
			msgs = append(msgs, m)
		}
		return nil
	})
	return msgs, err
}

// sortEntries returns the sort entries of ds (in mailbox order) from the
// server's cache, made from the index summaries for those it lacks (with
// their references when refs), whose summaries are listed in one range
// query.
func (s *session) sortEntries(sel *selected, ds []*msgData, refs bool) ([]*sortEntry, error) {
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = d.m.BlobKey
	}
	out := make([]*sortEntry, len(ds))
	s.srv.sorts.getAll(keys, out)
	var miss []*msgData
	for i, e := range out {
		if e == nil || (refs && !e.hasRefs) {
			miss = append(miss, ds[i])
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	if err := s.loadSummaries(sel, miss); err != nil {
		return nil, err
	}
	for i, e := range out {
		if e != nil && (!refs || e.hasRefs) {
			continue
		}
		e, err := newSortEntry(ds[i], refs)
		if err != nil {
			return nil, s.protoErr("sort", err, nil)
		}
		s.srv.sorts.put(keys[i], e)
		out[i] = e
	}
	return out, nil
}

// loadSummaries loads the prefix and summary of the messages of ds
// (in mailbox order) listed without them (fillSummaries).
func (s *session) loadSummaries(sel *selected, ds []*msgData) error {
	var need []*msgData
	for _, d := range ds {
		if d.heads && d.m.Summary == nil && d.sumErr == nil {
			need = append(need, d)
		}
	}
	return s.fillSummaries(sel, need)
}

// newSortEntry makes the sort entry of d from its index summary (or the
// object, for an entry another session expunged); refs adds the
// references.
func newSortEntry(d *msgData, refs bool) (*sortEntry, error) {
	var (
		sent time.Time
		e    *message.Envelope
	)
	if d.sum != nil {
		sent, e = d.sum.Date, &d.sum.Envelope
	} else if d.loadFull(); d.m.Summary != nil {
		if s, err := decodeSortSummary(d.m.Summary); err == nil {
			sent, e = s.Date, &s.Envelope
		}
	}
	if e == nil {
		sum, err := d.summary()
		if err != nil {
			return nil, err
		}
		sent, e = sum.Date, &sum.Envelope
	}
	m := sortthread.Message{Subject: e.Subject, From: sortAddress(e.From), To: sortAddress(e.To), Cc: sortAddress(e.Cc)}
	entry := &sortEntry{sent: sent, keys: *sortthread.MakeKeys(&m), messageID: e.MessageID}
	if refs {
		entry.refs, entry.hasRefs = references(d, e), true
	}
	return entry, nil
}

// sortSummary is what SORT and THREAD read of an index summary.
type sortSummary struct {
	Date     time.Time        `json:"d"`
	Envelope message.Envelope `json:"e"`
}

// decodeSortSummary decodes the date and envelope of an encoded summary
// without the header block and the body structure: message.Marshal writes
// the keys in the order of Summary's fields, "h" (base64, which has no
// quote) before "e" before "b", and `,"e":` or `,"b":` cannot be inside a
// JSON string (its quotes would be escaped) nor the envelope (which has no
// such key), so the header's value and the summary after the envelope are
// cut out. Anything else goes through the whole decoder.
func decodeSortSummary(b []byte) (*sortSummary, error) {
	var s sortSummary
	if e := bytes.Index(b, []byte(`,"e":`)); e >= 0 && bytes.HasPrefix(b, []byte(`{"s":`)) {
		if i := bytes.Index(b[e:], []byte(`,"b":`)); i >= 0 {
			head := b[:e]
			cut := make([]byte, 0, e+i+1)
			if h := bytes.Index(head, []byte(`,"h":"`)); h >= 0 {
				if end := bytes.IndexByte(head[h+len(`,"h":"`):], '"'); end >= 0 {
					cut = append(cut, head[:h]...)
					head = head[h+len(`,"h":"`)+end+1:]
				}
			}
			cut = append(append(append(cut, head...), b[e:e+i]...), '}')
			if json.Unmarshal(cut, &s) == nil {
				return &s, nil
			}
			s = sortSummary{}
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// sortAddress is the first mailbox of an address list (group markers
// skipped): its local part, and its display name or else its addr-spec
// (RFC 5957 section 3).
func sortAddress(list []message.Address) sortthread.Address {
	for _, a := range list {
		if a.Host == "" {
			continue // a group's start or end marker
		}
		display := a.Name
		if display == "" {
			display = a.Mailbox + "@" + a.Host
		}
		return sortthread.Address{Mailbox: a.Mailbox, Display: display}
	}
	return sortthread.Address{}
}

// references are the msg-ids of the References fields, else the first
// of In-Reply-To (RFC 5256 section 3, REFERENCES step 1). The header
// comes from the index summary; one longer than the index keeps is read
// for In-Reply-To only, from the envelope, so that no object is read. The
// entry's prefix is left out: it holds the delivery's trace fields
// (Return-Path, Delivered-To, Authentication-Results), never References,
// and what the sort cache keeps by object key must come from the object.
func references(d *msgData, e *message.Envelope) []string {
	var (
		hdr  []byte
		size int64
		err  error
	)
	if d.sum != nil {
		hdr, size = d.sum.Header, d.sum.HeaderSize
	} else if d.m.Summary != nil {
		hdr, size, err = message.UnmarshalHeader(d.m.Summary)
	}
	if err == nil && int64(len(hdr)) >= size {
		var ids []string
		for _, v := range fieldValues(hdr, "References") {
			ids = msgIDs(ids, v)
		}
		if len(ids) > 0 {
			return ids
		}
	}
	if ids := msgIDs(nil, e.InReplyTo); len(ids) > 0 {
		return ids[:1]
	}
	return nil
}

// fieldValues returns the values of the fields called name (any case) in
// the header block hdr, folded lines joined by their line breaks. It reads
// up to the blank line, or to the first line that is neither a field nor
// a continuation, as a header parser stops there.
func fieldValues(hdr []byte, name string) []string {
	var (
		out []string
		in  bool // the field being read is one of name
	)
	for len(hdr) > 0 {
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i+1], hdr[i+1:]
		} else {
			hdr = nil
		}
		text := bytes.TrimRight(line, "\r\n")
		switch {
		case len(text) == 0:
			return out
		case text[0] == ' ' || text[0] == '\t':
			if in {
				out[len(out)-1] += "\r\n" + string(text)
			}
		default:
			colon := bytes.IndexByte(text, ':')
			if colon < 0 {
				return out
			}
			in = strings.EqualFold(string(bytes.TrimRight(text[:colon], " \t")), name)
			if in {
				out = append(out, string(text[colon+1:]))
			}
		}
	}
	return out
}

// msgIDs appends the msg-ids of a field value ("<a@b> <c@d>", folded or
// not) to ids, with white space inside them removed; text outside angle
// brackets (comments, phrases) is skipped.
func msgIDs(ids []string, v string) []string {
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return ids
		}
		v = v[i+1:]
		j := strings.IndexByte(v, '>')
		if j < 0 {
			return ids
		}
		if k := strings.LastIndexByte(v[:j], '<'); k >= 0 {
			v = v[k:] // "<junk <id>": the id is the last opening's
			continue
		}
		id := strings.Join(strings.Fields(v[:j]), "")
		v = v[j+1:]
		if id != "" {
			ids = append(ids, "<"+id+">")
		}
	}
}
