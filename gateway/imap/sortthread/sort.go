package sortthread

import (
	"cmp"
	"slices"
	"strings"
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
	// Keys are the comparison keys made from the fields above (MakeKeys);
	// nil: Sort and the THREAD algorithms make them. A caller that orders
	// the same message again may keep them. Keys and References are read,
	// never changed.
	Keys *Keys
}

// Keys are the forms of a message's fields that SORT and THREAD compare:
// the i;unicode-casemap keys (Casemap) of the base subject and of the
// first addresses. They depend on the message alone.
type Keys struct {
	// Subject is the key of the base subject (RFC 5256 section 2.1);
	// ReplyOrForward reports whether its extraction removed a reply or
	// forward marker (BaseSubject).
	Subject        string
	ReplyOrForward bool
	// From, To and Cc are the keys of the addresses' local parts,
	// DisplayFrom and DisplayTo of their display names (RFC 5957).
	From, To, Cc           string
	DisplayFrom, DisplayTo string
}

// MakeKeys computes the comparison keys of m's fields.
func MakeKeys(m *Message) *Keys {
	base, re := BaseSubject(m.Subject)
	return &Keys{
		Subject: Casemap(base), ReplyOrForward: re,
		From: Casemap(m.From.Mailbox), To: Casemap(m.To.Mailbox), Cc: Casemap(m.Cc.Mailbox),
		DisplayFrom: Casemap(m.From.Display), DisplayTo: Casemap(m.To.Display),
	}
}

// keys returns m.Keys, made first if m has none.
func (m *Message) keys() *Keys {
	if m.Keys == nil {
		return MakeKeys(m)
	}
	return m.Keys
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
	keys := make([]*Keys, len(msgs))
	if slices.ContainsFunc(criteria, func(c Criterion) bool { return c.Key != Arrival && c.Key != Date && c.Key != Size }) {
		for i := range msgs {
			keys[i] = msgs[i].keys()
		}
	}
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		for _, c := range criteria {
			r := compare(&msgs[a], &msgs[b], keys[a], keys[b], c.Key)
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

// compare orders messages a and b, whose keys are ka and kb (nil when key
// does not compare strings), by key.
func compare(a, b *Message, ka, kb *Keys, key Key) int {
	switch key {
	case Arrival:
		return a.Arrival.Compare(b.Arrival)
	case Date:
		return a.sentDate().Compare(b.sentDate())
	case Size:
		return cmp.Compare(a.Size, b.Size)
	case Cc:
		return strings.Compare(ka.Cc, kb.Cc)
	case From:
		return strings.Compare(ka.From, kb.From)
	case To:
		return strings.Compare(ka.To, kb.To)
	case DisplayFrom:
		return strings.Compare(ka.DisplayFrom, kb.DisplayFrom)
	case DisplayTo:
		return strings.Compare(ka.DisplayTo, kb.DisplayTo)
	case Subject:
		return strings.Compare(ka.Subject, kb.Subject)
	}
	return 0
}
