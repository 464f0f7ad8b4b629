package wire

import (
	"mime"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// envelopeDate is the form of the Date field in an ENVELOPE (RFC 5322
// section 3.3).
const envelopeDate = "Mon, 02 Jan 2006 15:04:05 -0700"

// Envelope writes an ENVELOPE (RFC 9051 section 7.5.2, grammar "envelope"):
// date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to,
// message-id. Sender and Reply-To default to From (RFC 9051 section
// 7.5.2). A non-ASCII subject or name is sent as an encoded-word unless
// the client takes UTF-8.
func (w *Writer) Envelope(env *imap.Envelope) *Writer {
	return w.EnvelopeRouted(env, nil)
}

// Routes are the source routes of an envelope's addresses, which go-imap's
// Address has no field for: Routes[f][i] is the addr-adl of address i of
// field f, in the order From, Sender, Reply-To, To, Cc, Bcc, in the form
// "@a.example,@b.example" (RFC 3501 section 7.4.2). A missing or empty
// entry is NIL, as for almost every address.
type Routes = [6][]string

// EnvelopeRouted writes an ENVELOPE as Envelope does, with the source
// routes of its addresses; routes may be nil.
func (w *Writer) EnvelopeRouted(env *imap.Envelope, routes *Routes) *Writer {
	if routes == nil {
		routes = &Routes{}
	}
	if env == nil {
		env = &imap.Envelope{}
	}
	w.BeginList()
	if env.Date.IsZero() {
		w.Nil()
	} else {
		w.String(env.Date.Format(envelopeDate))
	}
	w.NString(w.header(env.Subject))
	fields := [6][]imap.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc}
	r := *routes
	for f := 1; f <= 2; f++ { // Sender, Reply-To
		if len(fields[f]) == 0 {
			fields[f], r[f] = env.From, r[0]
		}
	}
	for f, l := range fields {
		w.addresses(l, r[f])
	}
	if len(env.InReplyTo) == 0 {
		w.Nil()
	} else {
		w.String("<" + strings.Join(env.InReplyTo, "> <") + ">")
	}
	if env.MessageID == "" {
		w.Nil()
	} else {
		w.String("<" + env.MessageID + ">")
	}
	return w.EndList()
}

// header is s as it may go into an envelope string.
func (w *Writer) header(s string) string {
	if w.UTF8 {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// addresses writes an address list, or NIL. A group start is an address
// with a mailbox and no host, a group end one with neither (RFC 9051
// section 7.5.2); both come out right from the same four fields.
func (w *Writer) addresses(l []imap.Address, routes []string) {
	if len(l) == 0 {
		w.Nil()
		return
	}
	w.BeginList()
	for i, a := range l {
		// env-to = "(" 1*address ")": no space between the addresses.
		// address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
		if i > 0 {
			w.needSP = false
		}
		w.BeginList()
		w.NString(w.header(a.Name))
		if i < len(routes) {
			w.NString(routes[i]) // obsolete (RFC 5322 section 4.4), rare
		} else {
			w.Nil()
		}
		w.NString(a.Mailbox)
		w.NString(a.Host)
		w.EndList()
	}
	w.EndList()
}

// BodyStructure writes a body structure: BODY without extended,
// BODYSTRUCTURE with the extension data (RFC 9051 section 7.5.2,
// grammar "body").
func (w *Writer) BodyStructure(bs imap.BodyStructure, extended bool) *Writer {
	w.BeginList()
	switch bs := bs.(type) {
	case *imap.BodyStructureMultiPart:
		w.multipart(bs, extended)
	case *imap.BodyStructureSinglePart:
		w.singlePart(bs, extended)
	default:
		// No structure known: describe the message as empty text.
		w.singlePart(&imap.BodyStructureSinglePart{Type: "text", Subtype: "plain", Text: &imap.BodyStructureText{}}, extended)
	}
	return w.EndList()
}

func (w *Writer) multipart(bs *imap.BodyStructureMultiPart, extended bool) {
	// body-type-mpart = 1*body SP media-subtype: no space between the bodies.
	for i, c := range bs.Children {
		if i > 0 {
			w.needSP = false
		}
		w.BodyStructure(c, extended)
	}
	if len(bs.Children) == 0 {
		w.BodyStructure(nil, extended)
	}
	w.String(bs.Subtype)
	if !extended {
		return
	}
	ext := bs.Extended
	if ext == nil {
		ext = &imap.BodyStructureMultiPartExt{}
	}
	// body-ext-mpart = body-fld-param SP body-fld-dsp SP body-fld-lang SP body-fld-loc
	w.params(ext.Params)
	w.disposition(ext.Disposition)
	w.language(ext.Language)
	w.NString(ext.Location)
}

func (w *Writer) singlePart(bs *imap.BodyStructureSinglePart, extended bool) {
	// body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP
	// body-fld-enc SP body-fld-octets
	w.String(bs.Type)
	w.String(bs.Subtype)
	w.params(bs.Params)
	w.NString(bs.ID)
	w.NString(bs.Description)
	// Lower case: some clients (Outlook for iOS) misread upper case here.
	enc := strings.ToLower(bs.Encoding)
	if enc == "" {
		enc = "7bit"
	}
	w.String(enc)
	w.Number(bs.Size)
	switch {
	case bs.MessageRFC822 != nil:
		// body-type-msg: ... SP envelope SP body SP body-fld-lines
		w.Envelope(bs.MessageRFC822.Envelope)
		w.BodyStructure(bs.MessageRFC822.BodyStructure, extended)
		w.Number64(uint64(max(bs.MessageRFC822.NumLines, 0)))
	case bs.Text != nil:
		w.Number64(uint64(max(bs.Text.NumLines, 0)))
	}
	if !extended {
		return
	}
	ext := bs.Extended
	if ext == nil {
		ext = &imap.BodyStructureSinglePartExt{}
	}
	// body-ext-1part = body-fld-md5 SP body-fld-dsp SP body-fld-lang SP body-fld-loc
	w.Nil()
	w.disposition(ext.Disposition)
	w.language(ext.Language)
	w.NString(ext.Location)
}

// params writes body-fld-param: ("name" "value" ...) sorted by name, or NIL.
func (w *Writer) params(m map[string]string) {
	if len(m) == 0 {
		w.Nil()
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.BeginList()
	for _, k := range keys {
		w.String(k)
		w.String(m[k])
	}
	w.EndList()
}

// disposition writes body-fld-dsp: ("value" params) or NIL.
func (w *Writer) disposition(d *imap.BodyStructureDisposition) {
	if d == nil || d.Value == "" {
		w.Nil()
		return
	}
	w.BeginList()
	w.String(d.Value)
	w.params(d.Params)
	w.EndList()
}

// language writes body-fld-lang: NIL, a string, or a list of strings.
func (w *Writer) language(l []string) {
	switch len(l) {
	case 0:
		w.Nil()
	case 1:
		w.String(l[0])
	default:
		w.BeginList()
		for _, s := range l {
			w.String(s)
		}
		w.EndList()
	}
}
