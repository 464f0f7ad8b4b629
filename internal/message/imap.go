package message

import (
	"math"

	"github.com/emersion/go-imap/v2"
)

// IMAPBodyStructure returns the BODYSTRUCTURE (extended) or BODY (not
// extended) of the message (RFC 9051 section 7.5.2) as go-imap's writer
// wants it. The result is always well-formed: a multipart whose parts were
// not described (broken MIME, limits) gets one empty text/plain part, and a
// message/rfc822 that was not parsed an empty envelope and body, so a
// client never sees a structure it cannot parse.
func (s *Summary) IMAPBodyStructure(extended bool) imap.BodyStructure {
	return s.Body.imap(extended)
}

func (p *Part) imap(extended bool) imap.BodyStructure {
	if p.Type == "multipart" {
		return p.imapMulti(extended)
	}
	if p.Type == "" || p.Subtype == "" {
		c := *p
		c.Type, c.Subtype = "text", "plain"
		p = &c
	}
	bs := &imap.BodyStructureSinglePart{
		Type:        p.Type,
		Subtype:     p.Subtype,
		Params:      p.Params,
		ID:          p.ID,
		Description: p.Description,
		Encoding:    p.Encoding,
		Size:        clampUint32(p.Size),
	}
	switch {
	case p.isMessage():
		msg := &imap.BodyStructureMessageRFC822{NumLines: p.Lines}
		if p.Envelope != nil {
			msg.Envelope = p.Envelope.imap(parseDate(p.Envelope.Date))
		} else {
			msg.Envelope = &imap.Envelope{}
		}
		if len(p.Parts) > 0 {
			msg.BodyStructure = p.Parts[0].imap(extended)
		} else {
			msg.BodyStructure = emptyText(extended)
		}
		bs.MessageRFC822 = msg
	case p.Type == "text":
		bs.Text = &imap.BodyStructureText{NumLines: p.Lines}
	}
	if extended {
		bs.Extended = &imap.BodyStructureSinglePartExt{
			Disposition: p.imapDisposition(),
			Language:    p.Language,
			Location:    p.Location,
		}
	}
	return bs
}

func (p *Part) imapMulti(extended bool) imap.BodyStructure {
	bs := &imap.BodyStructureMultiPart{Subtype: p.Subtype}
	for i := range p.Parts {
		bs.Children = append(bs.Children, p.Parts[i].imap(extended))
	}
	if len(bs.Children) == 0 {
		// RFC 9051's body-type-mpart needs at least one body.
		bs.Children = []imap.BodyStructure{emptyText(extended)}
	}
	if extended {
		bs.Extended = &imap.BodyStructureMultiPartExt{
			Params:      p.Params,
			Disposition: p.imapDisposition(),
			Language:    p.Language,
			Location:    p.Location,
		}
	}
	return bs
}

func (p *Part) imapDisposition() *imap.BodyStructureDisposition {
	if p.Disposition == "" {
		return nil
	}
	return &imap.BodyStructureDisposition{Value: p.Disposition, Params: p.DispParams}
}

// emptyText is the stand-in for a part that was not described.
func emptyText(extended bool) imap.BodyStructure {
	p := Part{Type: "text", Subtype: "plain"}
	return p.imap(extended)
}

func clampUint32(n int64) uint32 {
	if n < 0 {
		return 0
	}
	if n > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}
