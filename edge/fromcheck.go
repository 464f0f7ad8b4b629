package edge

import (
	"bytes"
	"context"
	"io"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/message"
)

// maxHeaderCapture bounds the header block the edge keeps in memory to
// check From: on submission. A header block longer than this is refused:
// its From: cannot be checked.
const maxHeaderCapture = 64 << 10

// Replies of the From: check.
var (
	errNoFrom         = reply(c550MailboxUnavail, e560Media, "Message has no From: header")
	errBadFrom        = reply(c553BadMailbox, e517BadSenderSyntax, "Bad From: header address syntax")
	errHeaderTooLarge = reply(c554Failed, e560Media, "Message header too large")
	// RFC 5322 section 3.6 allows one From: and one Sender: field; two
	// would let the check and a reader see different authors.
	errDuplicateFrom   = reply(c553BadMailbox, e571Denied, "Message has more than one From: or Sender: field")
	errManyAuthors     = reply(c553BadMailbox, e571Denied, "From: and Sender: must each name one mailbox")
	errAmbiguousHeader = reply(c553BadMailbox, e571Denied, "Malformed header field name that could be read as From:")
)

// headerCapture is an io.Reader that passes the DATA stream through and
// keeps a copy of its header block (up to the empty line that ends it,
// RFC 5322 section 2.1), so the edge can check From: after streaming the
// message to the blob store without reading it back.
type headerCapture struct {
	r        io.Reader
	buf      bytes.Buffer
	complete bool // the empty line was seen
	overflow bool // more than maxHeaderCapture bytes without it
}

func (h *headerCapture) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 && !h.complete && !h.overflow {
		h.add(p[:n])
	}
	return n, err
}

// add appends b and stops at the end of the header block. It looks for
// "\n\r\n" or "\n\n" across chunk boundaries by searching from a little
// before the new bytes.
func (h *headerCapture) add(b []byte) {
	start := max(h.buf.Len()-2, 0)
	h.buf.Write(b)
	data := h.buf.Bytes()
	if h.buf.Len() > 0 && (data[0] == '\n' || bytes.HasPrefix(data, []byte("\r\n"))) {
		h.complete, h.buf = true, bytes.Buffer{} // no header at all
		return
	}
	for _, sep := range [][]byte{[]byte("\n\r\n"), []byte("\n\n")} {
		if i := bytes.Index(data[start:], sep); i >= 0 && start+i+1 <= maxHeaderCapture {
			h.buf.Truncate(start + i + 1)
			h.complete = true
			return
		}
	}
	if h.buf.Len() > maxHeaderCapture {
		h.overflow = true
		h.buf = bytes.Buffer{}
	}
}

// originators returns the originator fields of the captured header as
// every reader of the message sees them (message.Originators: the IMAP
// envelope's parser). A message that is all header (no empty line) is
// checked too.
func (h *headerCapture) originators() ([]message.Originator, *smtp.SMTPError) {
	if h.overflow {
		return nil, errHeaderTooLarge
	}
	fields, ambiguous := message.Originators(h.buf.Bytes())
	if ambiguous {
		return nil, errAmbiguousHeader
	}
	return fields, nil
}

// submittedSenders returns the addresses a submitted message names as its
// author, sender or resender, or the reply that refuses the header: no
// From:, more than one From: or Sender: field (RFC 5322 section 3.6 allows
// one each; a reader would show either), a From: or Sender: that is not
// exactly one mailbox, or a field that is not a plain mailbox list. Resent
// blocks may repeat (RFC 5322 section 3.6.6); each of their mailboxes counts.
func submittedSenders(fields []message.Originator) ([]string, *smtp.SMTPError) {
	var addrs []string
	count := map[string]int{}
	for _, f := range fields {
		count[f.Name]++
		if !f.Strict || len(f.Addresses) == 0 {
			return nil, errBadFrom
		}
		if (f.Name == "from" || f.Name == "sender") && len(f.Addresses) != 1 {
			return nil, errManyAuthors
		}
		for _, a := range f.Addresses {
			addrs = append(addrs, a.Address())
		}
	}
	switch {
	case count["from"] == 0:
		return nil, errNoFrom
	case count["from"] > 1 || count["sender"] > 1:
		return nil, errDuplicateFrom
	}
	return addrs, nil
}

// checkFromHeader accepts a submitted message whose every From:, Sender:,
// Resent-From: and Resent-Sender: address is owned by the authenticated
// user, as MAIL FROM must be (checkSender): otherwise a user could send as
// anyone under our DKIM signature.
func (s *session) checkFromHeader(ctx context.Context, h *headerCapture) (*smtp.SMTPError, error) {
	user := s.authUser()
	if user == nil {
		return errAuthRequired, nil
	}
	fields, rep := h.originators()
	if rep != nil {
		return rep, nil
	}
	addrs, rep := submittedSenders(fields)
	if rep != nil {
		return rep, nil
	}
	for _, a := range addrs {
		owned, err := s.owns(ctx, user, a)
		if err != nil {
			return nil, err
		}
		if !owned {
			return errSenderNotOwned, nil
		}
	}
	return nil, nil
}
