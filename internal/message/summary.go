// Package message parses a raw RFC 5322 message (with MIME, RFC 2045-2049)
// into the Summary the mailbox index keeps, so that listing a mailbox never
// reads a body (invariant 5): envelope, body structure, size, dates and the
// header block that SEARCH HEADER needs.
package message

import (
	"time"
)

// Summary is what the index keeps of one message object. It describes the
// object as stored (the edge's Received: line included); per-recipient prefix
// lines are not part of it.
type Summary struct {
	Size  int64     `json:"s"`          // bytes of the object
	Lines int64     `json:"l"`          // lines of the object
	Date  time.Time `json:"d,omitzero"` // parsed Date: header; zero when missing or bad
	// Header is the raw header block incl. the blank line, or as many of
	// its first lines as fit in MaxHeader.
	Header []byte `json:"h,omitempty"`
	// HeaderSize is the real size of the header block; larger than
	// len(Header) when it was capped.
	HeaderSize int64    `json:"hs"`
	Envelope   Envelope `json:"e"`
	Body       Part     `json:"b"`
	// Preview is the start of the message's text for FETCH PREVIEW (RFC
	// 8970), made as the message is parsed: up to PreviewLen characters
	// of its first text/plain part, else of its first text/html part
	// reduced to text, white space collapsed; empty for a message without
	// text, and in summaries made before it was kept. It comes after "e"
	// (see UnmarshalHeader).
	Preview string `json:"pv,omitempty"`
}

// MaxHeader caps Summary.Header.
const MaxHeader = 64 << 10

// Envelope is the IMAP ENVELOPE of a message (RFC 9051 section 7.5.2).
// Strings are UTF-8: the subject and display names are decoded from RFC 2047
// encoded-words (go-imap's writer encodes them again as needed).
type Envelope struct {
	Date      string    `json:"date,omitempty"` // Date: header as sent
	Subject   string    `json:"subject,omitempty"`
	From      []Address `json:"from,omitempty"`
	Sender    []Address `json:"sender,omitempty"`
	ReplyTo   []Address `json:"replyTo,omitempty"`
	To        []Address `json:"to,omitempty"`
	Cc        []Address `json:"cc,omitempty"`
	Bcc       []Address `json:"bcc,omitempty"`
	InReplyTo string    `json:"inReplyTo,omitempty"` // msg-ids as IMAP sends them: "<a@b> <c@d>"
	MessageID string    `json:"messageId,omitempty"` // "<id@host>"; empty when malformed
}

// Address is one mailbox of an address list. As in IMAP, a group is a start
// marker (group name in Mailbox, no Host), its members and an end marker
// (all fields empty).
type Address struct {
	Name string `json:"name,omitempty"`
	// Route is the obsolete source route of `<@a.example,@b.example:
	// user@c.example>` as IMAP's addr-adl gives it: "@a.example,@b.example"
	// (RFC 5322 section 4.4, RFC 3501 section 7.4.2). Almost always empty.
	Route   string `json:"route,omitempty"`
	Mailbox string `json:"mailbox,omitempty"`
	Host    string `json:"host,omitempty"`
}

// Part is one node of the MIME tree: the IMAP BODYSTRUCTURE with extension data.
type Part struct {
	Type        string            `json:"type"`    // lower-case, e.g. "text"
	Subtype     string            `json:"subtype"` // lower-case, e.g. "plain"
	Params      map[string]string `json:"params,omitempty"`
	ID          string            `json:"id,omitempty"`
	Description string            `json:"desc,omitempty"`
	Encoding    string            `json:"enc,omitempty"`
	Size        int64             `json:"size"`          // body bytes of this part
	Off         int64             `json:"off,omitempty"` // where the body starts in the object; 0: not recorded (older summaries)
	// B64Line and B64Term describe a base64 body whose lines all have
	// B64Line characters and a B64Term-byte terminator but the last, which
	// may be shorter: the decoded bytes at any offset are then at a known
	// place in the object. Zero for other bodies.
	B64Line     int               `json:"b64l,omitempty"`
	B64Term     int               `json:"b64t,omitempty"`
	Lines       int64             `json:"lines,omitempty"` // text/* and message/rfc822
	MD5         string            `json:"md5,omitempty"`
	Disposition string            `json:"disp,omitempty"`
	DispParams  map[string]string `json:"dispParams,omitempty"`
	Language    []string          `json:"lang,omitempty"`
	Location    string            `json:"loc,omitempty"`
	// Children of multipart/*; for message/rfc822 the single child is the
	// enclosed message's body, with its envelope in Envelope.
	Parts    []Part    `json:"parts,omitempty"`
	Envelope *Envelope `json:"env,omitempty"`
}
