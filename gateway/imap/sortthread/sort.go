package sortthread

import (
	"cmp"
	"slices"
	"time"
)

// Message is what SORT and THREAD need of one message. The caller fills
// it from the index, in mailbox order (ascending sequence numbers): equal
// messages keep that order, as RFC 5256 requires.
type Message struct {
	// ID is what the answer lists: the sequence number, or the UID for
	// UID SORT and UID THREAD.
	ID uint32
	// Arrival is the internal date; Sent the Date: header, zero when it is
	// missing or cannot be parsed (then Arrival stands for it, RFC 5256
	// section 2.2).
	Arrival, Sent time.Time
	Size          int64
	// Subject is decoded from RFC 2047 encoded-words.
	Subject string
	// From, To and Cc are the first address of each field: Mailbox is its
	// local part (addr-mailbox), Display its display name, else its
	// address (RFC 5957).
	From, To, Cc Address
	// MessageID is the msg-id of the Message-ID field with its angle
	// brackets, empty when missing or invalid. References lists the msg-ids
	// of the References field, else the first of In-Reply-To.
	MessageID  string
	References []string
}

// Address is the part of an address the sort keys use.
type Address struct {
	Mailbox string // addr-mailbox: the local part
	Display string // display name, else addr-spec (RFC 5957 DISPLAYFROM)
}

// Key is a sort key of RFC 5256 section 3 or RFC 5957.
type Key int

// The sort keys.
const (
	Arrival Key = iota
	Cc
	Date
	From
	Size
	Subject
	To
	DisplayFrom
	DisplayTo
)

// Criterion is one sort key, reversed or not.
type Criterion struct {
	Key     Key
	Reverse bool
}

// sentDate is the date SORT DATE and THREAD use (RFC 5256 section 2.2).
func (m *Message) sentDate() time.Time {
	if m.Sent.IsZero() {
		return m.Arrival
	}
	return m.Sent
}

// Sort returns the IDs of msgs in the order of criteria; messages equal
// under every criterion keep their order in msgs. msgs is not changed.
func Sort(msgs []Message, criteria []Criterion) []uint32 {
	keys := make([]sortKeys, len(msgs))
	for i := range msgs {
		keys[i] = newSortKeys(&msgs[i], criteria)
	}
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		for j, c := range criteria {
			r := keys[a].compare(&keys[b], j, c.Key)
			if c.Reverse {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return 0
	})
	ids := make([]uint32, len(order))
	for i, k := range order {
		ids[i] = msgs[k].ID
	}
	return ids
}

// sortKeys holds one message's comparison keys, computed once per sort
// (the string keys are case-mapped, which allocates).
type sortKeys struct {
	m    *Message
	strs []string // per criterion; only string keys are filled
}

func newSortKeys(m *Message, criteria []Criterion) sortKeys {
	k := sortKeys{m: m, strs: make([]string, len(criteria))}
	for j, c := range criteria {
		switch c.Key {
		case Cc:
			k.strs[j] = Casemap(m.Cc.Mailbox)
		case From:
			k.strs[j] = Casemap(m.From.Mailbox)
		case To:
			k.strs[j] = Casemap(m.To.Mailbox)
		case DisplayFrom:
			k.strs[j] = Casemap(m.From.Display)
		case DisplayTo:
			k.strs[j] = Casemap(m.To.Display)
		case Subject:
			base, _ := BaseSubject(m.Subject)
			k.strs[j] = Casemap(base)
		}
	}
	return k
}

func (k *sortKeys) compare(o *sortKeys, j int, key Key) int {
	switch key {
	case Arrival:
		return k.m.Arrival.Compare(o.m.Arrival)
	case Date:
		return k.m.sentDate().Compare(o.m.sentDate())
	case Size:
		return cmp.Compare(k.m.Size, o.m.Size)
	default:
		return cmp.Compare(k.strs[j], o.strs[j])
	}
}
