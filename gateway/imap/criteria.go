package imapgw

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// searchOp is what one node of a search program tests.
type searchOp uint8

const (
	opAnd     searchOp = iota // every kid holds; no kid: every message
	opOr                      // kids[0] or kids[1]
	opNot                     // not kids[0]
	opSeq                     // the sequence number is in ranges
	opUID                     // the UID is in ranges, or in uids for "$"
	opFlag                    // has the flag name (\Recent included)
	opNoFlag                  // lacks the flag name
	opDate                    // INTERNALDATE's day in [since, before)
	opSent                    // the Date field's day in [since, before)
	opSaved                   // the save date's day in [since, before) (RFC 8514)
	opYounger                 // INTERNALDATE after cut (RFC 5032)
	opOlder                   // INTERNALDATE at or before cut (RFC 5032)
	opLarger                  // RFC822.SIZE > n
	opSmaller                 // RFC822.SIZE < n
	opModSeq                  // MODSEQ >= n (RFC 7162)
	opEmailID                 // EMAILID is value (RFC 8474)
	opNone                    // no message (THREADID: no threads are kept)
	opHeader                  // the field name contains value
	opBody                    // the body text contains value
	opText                    // the header or body text contains value
)

// Costs of evaluating a node for one message: from the index entry's
// head, from its summary or prefix, or from the object.
const (
	costHead = iota
	costSummary
	costObject
)

// searchNode is a search program of our own, compiled from the keys the
// client sent (RFC 9051 section 6.4.4 and the extensions): a tree of
// AND, OR and NOT over tests of one message. An AND's kids are ordered
// cheapest first, so that a message is read only when everything the
// index answers has matched.
type searchNode struct {
	op            searchOp
	kids          []searchNode
	ranges        []wire.NumRange // opSeq, opUID; "*" until static
	uids          []uint32        // opUID of "$": the saved result, ascending
	saved         bool
	name, value   string // flag; header field and value; BODY/TEXT pattern; EMAILID
	since, before time.Time
	cut           time.Time
	n             uint64
}

// Caps on a search program (invariant 9); the reader caps the nesting
// and the line, these the work a program asks for per message.
const (
	maxSearchKeys  = wire.MaxSearchKeys
	maxSearchDepth = wire.DefaultDepth
)

// criteria compiles a search key into the program matched; "$" is the
// saved result (RFC 5182). A key not answered, or a program over the
// caps, is BAD.
func (sel *selected) criteria(k *wire.SearchKey) (*searchNode, error) {
	count := -1 // the top-level AND is the program, not one of its keys
	n, err := sel.compile(k, time.Now(), 0, &count)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func (sel *selected) compile(k *wire.SearchKey, now time.Time, depth int, count *int) (searchNode, error) {
	*count++
	if *count > maxSearchKeys || depth > maxSearchDepth {
		return searchNode{}, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Search program too large"}
	}
	kid := func(i int) (searchNode, error) { return sel.compile(&k.Keys[i], now, depth+1, count) }
	flag := func(op searchOp, name string) searchNode { return searchNode{op: op, name: name} }
	switch k.Name {
	case "AND":
		n := searchNode{op: opAnd}
		for i := range k.Keys {
			sub, err := kid(i)
			if err != nil {
				return n, err
			}
			if sub.op == opAnd {
				n.kids = append(n.kids, sub.kids...) // (a b) c is a b c; ALL is nothing
			} else {
				n.kids = append(n.kids, sub)
			}
		}
		slices.SortStableFunc(n.kids, func(a, b searchNode) int { return cmp.Compare(a.cost(), b.cost()) })
		return n, nil
	case "NOT":
		sub, err := kid(0)
		return searchNode{op: opNot, kids: []searchNode{sub}}, err
	case "OR":
		a, err := kid(0)
		if err != nil {
			return a, err
		}
		b, err := kid(1)
		return searchNode{op: opOr, kids: []searchNode{a, b}}, err
	case "SEQSET", "UID":
		switch {
		case k.Set.Saved:
			return searchNode{op: opUID, saved: true, uids: slices.Clone(sel.searchRes)}, nil
		case k.Name == "UID":
			return searchNode{op: opUID, ranges: slices.Clone(k.Set.Ranges)}, nil
		}
		return searchNode{op: opSeq, ranges: slices.Clone(k.Set.Ranges)}, nil
	case "ALL", "SAVEDATESUPPORTED":
		// Every mailbox keeps save dates (RFC 8514 section 4.3).
		return searchNode{op: opAnd}, nil
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN":
		return flag(opFlag, `\`+titleCase(k.Name)), nil
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		return flag(opNoFlag, `\`+titleCase(k.Name[2:])), nil
	case "RECENT":
		return flag(opFlag, flagRecent), nil
	case "NEW":
		return searchNode{op: opAnd, kids: []searchNode{flag(opFlag, flagRecent), flag(opNoFlag, store.FlagSeen)}}, nil
	case "OLD":
		return flag(opNoFlag, flagRecent), nil
	case "KEYWORD":
		return flag(opFlag, k.Value), nil
	case "UNKEYWORD":
		return flag(opNoFlag, k.Value), nil
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		return searchNode{op: opHeader, name: titleCase(k.Name), value: k.Value}, nil
	case "HEADER":
		return searchNode{op: opHeader, name: k.Field, value: k.Value}, nil
	case "BODY":
		return searchNode{op: opBody, value: k.Value}, nil
	case "TEXT":
		return searchNode{op: opText, value: k.Value}, nil
	case "LARGER":
		return searchNode{op: opLarger, n: k.Number}, nil
	case "SMALLER":
		return searchNode{op: opSmaller, n: k.Number}, nil
	case "BEFORE", "SINCE", "ON":
		return dateNode(opDate, k), nil
	case "SENTBEFORE", "SENTSINCE", "SENTON":
		return dateNode(opSent, k), nil
	case "SAVEDBEFORE", "SAVEDSINCE", "SAVEDON":
		return dateNode(opSaved, k), nil
	case "YOUNGER":
		return searchNode{op: opYounger, cut: now.Add(-time.Duration(k.Number) * time.Second)}, nil
	case "OLDER":
		return searchNode{op: opOlder, cut: now.Add(-time.Duration(k.Number) * time.Second)}, nil
	case "MODSEQ":
		// RFC 7162 section 3.1.5: the entry name and type only narrow
		// which flag's mod-sequence counts; a message has one for all.
		return searchNode{op: opModSeq, n: k.Number}, nil
	case "EMAILID":
		return searchNode{op: opEmailID, value: k.Value}, nil
	case "THREADID":
		return searchNode{op: opNone}, nil
	}
	return searchNode{}, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "SEARCH " + k.Name + " is not supported"}
}

// dateNode is BEFORE, SINCE or ON (and their SENT and SAVED forms): a
// range of days, ON being the day itself.
func dateNode(op searchOp, k *wire.SearchKey) searchNode {
	n := searchNode{op: op}
	switch {
	case strings.HasSuffix(k.Name, "BEFORE"):
		n.before = k.Date
	case strings.HasSuffix(k.Name, "SINCE"):
		n.since = k.Date
	default:
		n.since, n.before = k.Date, k.Date.AddDate(0, 0, 1)
	}
	return n
}

// cost is what evaluating n reads at most.
func (n *searchNode) cost() int {
	switch n.op {
	case opHeader, opSent:
		return costSummary
	case opBody, opText:
		return costObject
	}
	c := costHead
	for i := range n.kids {
		c = max(c, n.kids[i].cost())
	}
	return c
}

// walk calls f for n and every node under it, until f returns true.
func (n *searchNode) walk(f func(*searchNode) bool) bool {
	if f(n) {
		return true
	}
	for i := range n.kids {
		if n.kids[i].walk(f) {
			return true
		}
	}
	return false
}

// titleCase is "SEEN" as "Seen", "FROM" as "From".
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return s[:1] + strings.ToLower(s[1:])
}

// staticCriteria replaces "*" in sequence and UID sets by the last message
// at every level of the program.
func (sel *selected) staticCriteria(c *searchNode) {
	n := uint32(len(sel.msgs))
	var maxUID uint32
	if n > 0 {
		maxUID = sel.msgs[n-1].uid
	}
	c.walk(func(k *searchNode) bool {
		last := n
		switch k.op {
		case opUID:
			last = maxUID
		case opSeq:
		default:
			return false
		}
		for i, r := range k.ranges {
			k.ranges[i].Start, k.ranges[i].Stop = staticRange(r.Start, r.Stop, last)
		}
		return false
	})
}

// seenOnly reports whether c is SEEN or UNSEEN and nothing else.
func seenOnly(c *searchNode) (seen, ok bool) {
	if c.op != opAnd || len(c.kids) != 1 {
		return false, false
	}
	k := &c.kids[0]
	if (k.op != opFlag && k.op != opNoFlag) || !strings.EqualFold(k.name, store.FlagSeen) {
		return false, false
	}
	return k.op == opFlag, true
}

// hasModSeq reports whether the program uses MODSEQ (RFC 7162 section
// 3.1.5: then the answer carries the highest mod-sequence found).
func hasModSeq(c *searchNode) bool {
	return c.walk(func(k *searchNode) bool { return k.op == opModSeq })
}

// needsSummary reports whether matching c reads index summaries or
// prefixes (the Date and header fields, the body when there is no text
// index); flags, dates, sizes and numbers need neither.
func needsSummary(c *searchNode, bodies bool) bool {
	return c.walk(func(k *searchNode) bool {
		return k.op == opHeader || k.op == opSent || (bodies && (k.op == opBody || k.op == opText))
	})
}

// inRanges reports whether n is in static ranges.
func inRanges(ranges []wire.NumRange, n uint32) bool {
	for _, r := range ranges {
		if n >= r.Start && n <= r.Stop {
			return true
		}
	}
	return false
}

// match evaluates c against one message. An AND stops at its first kid
// that fails, and its kids are cheapest first, so the body is read only
// when everything else matched and the text index (answers) could not
// tell.
func (s *session) match(d *msgData, c *searchNode, answers map[textKey]textAnswer) (bool, error) {
	m := d.m
	switch c.op {
	case opAnd:
		for i := range c.kids {
			if ok, err := s.match(d, &c.kids[i], answers); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case opOr:
		if ok, err := s.match(d, &c.kids[0], answers); ok || err != nil {
			return ok, err
		}
		return s.match(d, &c.kids[1], answers)
	case opNot:
		ok, err := s.match(d, &c.kids[0], answers)
		return !ok && err == nil, err
	case opSeq:
		return inRanges(c.ranges, uint32(d.pos+1)), nil
	case opUID:
		if c.saved {
			_, ok := slices.BinarySearch(c.uids, m.UID)
			return ok, nil
		}
		return inRanges(c.ranges, m.UID), nil
	case opFlag:
		return hasFlag(d.sel.withRecent(m.UID, m.Flags), c.name), nil
	case opNoFlag:
		return !hasFlag(d.sel.withRecent(m.UID, m.Flags), c.name), nil
	case opDate:
		return matchDate(m.InternalDate, c.since, c.before), nil
	case opSaved:
		return matchDate(m.SaveDate, c.since, c.before), nil
	case opSent:
		return matchSent(d, c.since, c.before)
	case opYounger:
		return m.InternalDate.After(c.cut), nil
	case opOlder:
		return !m.InternalDate.After(c.cut), nil
	case opLarger:
		return m.Size > int64(c.n), nil
	case opSmaller:
		return m.Size < int64(c.n), nil
	case opModSeq:
		return m.ModSeq >= c.n, nil
	case opEmailID:
		return m.EmailID != "" && m.EmailID == c.value, nil
	case opNone:
		return false, nil
	case opHeader:
		return matchHeader(d, c.name, c.value)
	case opBody, opText:
		return s.matchText(d, c.value, c.op == opText, answers)
	}
	return false, nil
}

// matchHeader checks HEADER, FROM, TO, CC, BCC and SUBJECT: the field as
// written, or for an address field its addresses as the envelope has them.
func matchHeader(d *msgData, field, value string) (bool, error) {
	h, err := d.header()
	if err != nil {
		return false, err
	}
	mh := gomessage.Header{Header: h}
	if matchFields(mh.FieldsByKey(field), value) {
		return true, nil
	}
	return matchAddresses(d, field, value)
}
