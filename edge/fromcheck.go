package edge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/mail"
	"net/textproto"

	"github.com/emersion/go-smtp"
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

// fromAddresses returns the addresses of every From: field of the
// captured header (RFC 5322 section 3.6.2 allows a mailbox list). A message
// that is all header (no empty line) is checked too.
func (h *headerCapture) fromAddresses() ([]string, *smtp.SMTPError) {
	if h.overflow {
		return nil, errHeaderTooLarge
	}
	r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(h.buf.Bytes()), bytes.NewReader([]byte("\r\n")))))
	hdr, err := r.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, errBadFrom
	}
	fields := hdr.Values("From")
	if len(fields) == 0 {
		return nil, errNoFrom
	}
	var addrs []string
	for _, f := range fields {
		list, err := (&mail.AddressParser{}).ParseList(f)
		if err != nil || len(list) == 0 {
			return nil, errBadFrom
		}
		for _, a := range list {
			addrs = append(addrs, a.Address)
		}
	}
	return addrs, nil
}

// checkFromHeader accepts a submitted message whose every From: address is
// owned by the authenticated user, as MAIL FROM must be (checkSender):
// otherwise a user could send as anyone under our DKIM signature.
func (s *session) checkFromHeader(ctx context.Context, h *headerCapture) (*smtp.SMTPError, error) {
	user := s.authUser()
	if user == nil {
		return errAuthRequired, nil
	}
	addrs, rep := h.fromAddresses()
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
