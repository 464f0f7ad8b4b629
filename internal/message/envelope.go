package message

import (
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// newEnvelope builds the envelope of a message from its header fields
// (RFC 9051 section 7.5.2), decoding as go-imap's imapserver.ExtractEnvelope
// does. Message ids are kept in their wire form: MessageID "<id>",
// InReplyTo "<a> <b>". Missing fields stay empty.
func newEnvelope(h textproto.Header) Envelope {
	mh := mail.Header{Header: gomessage.Header{Header: h}}
	e := Envelope{
		Date:    clean(h.Get("Date")),
		Subject: decodeText(h.Get("Subject")),
		From:    parseAddressList(h.Get("From")),
		Sender:  parseAddressList(h.Get("Sender")),
		ReplyTo: parseAddressList(h.Get("Reply-To")),
		To:      parseAddressList(h.Get("To")),
		Cc:      parseAddressList(h.Get("Cc")),
		Bcc:     parseAddressList(h.Get("Bcc")),
	}
	// A malformed In-Reply-To keeps the ids before the error, as in go-imap.
	if ids, _ := mh.MsgIDList("In-Reply-To"); len(ids) > 0 {
		e.InReplyTo = clean("<" + strings.Join(ids, "> <") + ">")
	}
	if id, err := mh.MessageID(); err == nil && id != "" {
		e.MessageID = clean("<" + id + ">")
	}
	return e
}

// IMAPEnvelope returns the ENVELOPE of the message as go-imap writes it. The
// prefix lines of a delivery (Return-Path, Delivered-To) do not change it.
// Its date is Summary.Date, parsed once at delivery from the same field.
func (s *Summary) IMAPEnvelope() *imap.Envelope {
	return s.Envelope.imap(s.Date)
}

// IMAPRoutes returns the source routes of the envelope's addresses, which
// go-imap's Address cannot hold, indexed as wire.Routes is: field (From,
// Sender, Reply-To, To, Cc, Bcc), then address. Nil when no address has
// one, as almost always.
func (s *Summary) IMAPRoutes() *[6][]string {
	e := &s.Envelope
	var out *[6][]string
	for f, l := range [6][]Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
		for i, a := range l {
			if a.Route == "" {
				continue
			}
			if out == nil {
				out = new([6][]string)
			}
			if out[f] == nil {
				out[f] = make([]string, len(l))
			}
			out[f][i] = a.Route
		}
	}
	return out
}

func (e *Envelope) imap(date time.Time) *imap.Envelope {
	out := &imap.Envelope{
		Date:    date,
		Subject: e.Subject,
		From:    imapAddresses(e.From),
		Sender:  imapAddresses(e.Sender),
		ReplyTo: imapAddresses(e.ReplyTo),
		To:      imapAddresses(e.To),
		Cc:      imapAddresses(e.Cc),
		Bcc:     imapAddresses(e.Bcc),
	}
	for _, id := range strings.Fields(e.InReplyTo) {
		out.InReplyTo = append(out.InReplyTo, strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">"))
	}
	out.MessageID = strings.TrimSuffix(strings.TrimPrefix(e.MessageID, "<"), ">")
	return out
}

func imapAddresses(l []Address) []imap.Address {
	if len(l) == 0 {
		return nil
	}
	out := make([]imap.Address, len(l))
	for i, a := range l {
		out[i] = imap.Address{Name: a.Name, Mailbox: a.Mailbox, Host: a.Host}
	}
	return out
}
