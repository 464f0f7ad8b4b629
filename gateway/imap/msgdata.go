package imapgw

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/textproto"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/store"
)

// msgData is one index entry being served, with what has been derived from
// it so far. The summary comes from the index; raw (Prefix + object) is
// read from the blob store only when a command needs the body.
type msgData struct {
	s     *session
	sel   *selected
	pos   int // position in the view: sequence number - 1
	m     *store.Message
	heads bool // listed without its summary: summary loads it
	// expunged says another session expunged the entry after this one
	// listed its head: the summary comes from the object, while it exists.
	expunged bool

	sum    *message.Summary
	sumErr error
	raw    []byte
	hdr    *textproto.Header
	fm     *fetchMeta
	txt    *message.Text
}

// loadFull loads the prefix and encoded summary if the entry was listed
// without them (MessageHeads of a driver that leaves them out); an error
// stays in sumErr.
func (d *msgData) loadFull() {
	if d.heads && d.m.Summary == nil && d.sumErr == nil {
		d.heads = false
		ms, err := d.s.mailboxes().Messages(d.s.ctx, d.s.user.ID, d.sel.mb.ID, d.m.UID, d.m.UID, 0)
		switch {
		case err != nil:
			d.sumErr = err
		case len(ms) == 1:
			d.m.Prefix, d.m.Summary = ms[0].Prefix, ms[0].Summary
		default:
			d.expunged = true
		}
	}
}

// summary decodes the index summary once.
func (d *msgData) summary() (*message.Summary, error) {
	d.loadFull()
	if d.sum == nil && d.sumErr == nil && d.expunged && d.m.Summary == nil {
		d.sum, d.sumErr = d.s.parseObject(d.m.BlobKey)
	}
	if d.sum == nil && d.sumErr == nil {
		d.sum, d.sumErr = message.Unmarshal(d.m.Summary)
		if d.sumErr != nil {
			d.s.log.Warn("imap: bad summary in index, reading the object",
				slog.Uint64("uid", uint64(d.m.UID)), slog.String("key", d.m.BlobKey), slog.Any("err", d.sumErr))
		}
	}
	return d.sum, d.sumErr
}

// indexHeader is the header block as served (Prefix + the object's header)
// when the index holds all of it.
func (d *msgData) indexHeader() ([]byte, bool) {
	var (
		hdr  []byte
		size int64
	)
	if d.sum != nil {
		hdr, size = d.sum.Header, d.sum.HeaderSize
	} else {
		// Only the header: decoding the whole summary costs more.
		d.loadFull()
		var err error
		if d.sumErr != nil {
			return nil, false
		}
		if hdr, size, err = message.UnmarshalHeader(d.m.Summary); err != nil {
			return nil, false
		}
	}
	if int64(len(hdr)) < size {
		return nil, false
	}
	b := make([]byte, 0, len(d.m.Prefix)+len(hdr))
	return append(append(b, d.m.Prefix...), hdr...), true
}

// body returns the message as served: Prefix + object bytes.
func (d *msgData) body() ([]byte, error) {
	if d.raw != nil {
		return d.raw, nil
	}
	if d.loadFull(); d.sumErr != nil && d.m.Prefix == nil {
		return nil, d.sumErr
	}
	obj, err := d.s.readObject(d.m.BlobKey)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 0, len(d.m.Prefix)+len(obj))
	d.raw = append(append(raw, d.m.Prefix...), obj...)
	return d.raw, nil
}

// header parses the header as served, from the index when it holds all of
// it (no blob read), else from the object.
func (d *msgData) header() (textproto.Header, error) {
	if d.hdr != nil {
		return *d.hdr, nil
	}
	b, ok := d.indexHeader()
	if !ok {
		var err error
		if b, err = d.body(); err != nil {
			return textproto.Header{}, err
		}
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
	if err != nil && h.Len() == 0 {
		// A broken header still has the fields read before the damage.
		h = textproto.Header{}
	}
	d.hdr = &h
	return h, nil
}

// meta returns the ENVELOPE and BODYSTRUCTURE decoded from the index
// summary, through the server's cache; nil if the summary is bad.
func (d *msgData) meta() *fetchMeta {
	if d.fm != nil {
		return d.fm
	}
	cache := d.s.srv.meta
	if d.fm = cache.get(d.m.BlobKey); d.fm != nil {
		return d.fm
	}
	sum, err := d.summary()
	if err != nil {
		return nil
	}
	d.fm = &fetchMeta{env: sum.IMAPEnvelope(), routes: sum.IMAPRoutes(), bs: sum.IMAPBodyStructure(true),
		preview: sum.Preview, hasPreview: sum.Preview != "" || !hasText(&sum.Body)}
	cache.put(d.m.BlobKey, d.fm)
	return d.fm
}

// envelope is the ENVELOPE and the source routes of its addresses, from
// the index summary.
func (d *msgData) envelope() (*imap.Envelope, *[6][]string, error) {
	if fm := d.meta(); fm != nil {
		return fm.env, fm.routes, nil
	}
	sum, err := d.parsedBody()
	if err != nil {
		return nil, nil, err
	}
	return sum.IMAPEnvelope(), sum.IMAPRoutes(), nil
}

// parsedBody is the summary parsed from the message as served, for an
// entry whose index summary is unusable or older than what is asked.
func (d *msgData) parsedBody() (*message.Summary, error) {
	raw, err := d.body()
	if err != nil {
		return nil, err
	}
	return message.Parse(bytes.NewReader(raw))
}

// preview is the FETCH PREVIEW text (RFC 8970), from the index summary.
// A summary made before previews were kept has none although the message
// has text: that preview is made from the object, once per cached entry.
func (d *msgData) preview() (string, error) {
	fm := d.meta()
	if fm != nil && fm.hasPreview {
		return fm.preview, nil
	}
	sum, err := d.parsedBody()
	if err != nil {
		return "", err
	}
	if fm != nil {
		d.s.srv.meta.put(d.m.BlobKey, &fetchMeta{env: fm.env, routes: fm.routes, bs: fm.bs,
			preview: sum.Preview, hasPreview: true})
	}
	return sum.Preview, nil
}

// hasText reports whether a body has a text/plain or text/html part,
// which a preview is made from.
func hasText(p *message.Part) bool {
	if p.Type == "text" && (p.Subtype == "plain" || p.Subtype == "html") && p.Size > 0 {
		return true
	}
	for i := range p.Parts {
		if hasText(&p.Parts[i]) {
			return true
		}
	}
	return false
}

// bodyStructure is the extended BODYSTRUCTURE, from the index summary. The
// prefix lines are header fields, so they change no part of it.
func (d *msgData) bodyStructure() (imap.BodyStructure, error) {
	if fm := d.meta(); fm != nil {
		return fm.bs, nil
	}
	raw, err := d.body()
	if err != nil {
		return nil, err
	}
	return parsedBodyStructure(raw), nil
}

// parsedBodyStructure is the BODYSTRUCTURE of raw for an entry whose index
// summary is unusable: the summary parser's, linear in raw and bounded in
// depth and parts as the index's are.
func parsedBodyStructure(raw []byte) imap.BodyStructure {
	sum, err := message.Parse(bytes.NewReader(raw))
	if err != nil { // not reached: raw is in memory
		return &imap.BodyStructureSinglePart{Type: "text", Subtype: "plain", Size: uint32(len(raw))}
	}
	return sum.IMAPBodyStructure(true)
}

// section extracts BODY[section]<partial> (RFC 9051 section 6.4.5).
// BODY[HEADER...] of the whole message comes from the index.
func (d *msgData) section(sec *imap.FetchItemBodySection) ([]byte, error) {
	if len(sec.Part) == 0 && sec.Specifier == imap.PartSpecifierHeader {
		if hdr, ok := d.indexHeader(); ok {
			if b, ok := headerFields(hdr, sec); ok {
				return b, nil
			}
			return extractSection(hdr, sec), nil
		}
	}
	if sec.Specifier == imap.PartSpecifierNone && d.raw == nil {
		if len(sec.Part) == 0 && sec.Partial != nil {
			return d.servedRange(sec.Partial)
		}
		if b, ok, err := d.partRange(sec.Part, sec.Partial); ok || err != nil {
			return b, err
		}
	}
	if sec.Specifier == imap.PartSpecifierText && len(sec.Part) == 0 && d.raw == nil {
		if b, ok, err := d.textRange(sec.Partial); ok || err != nil {
			return b, err
		}
	}
	raw, err := d.body()
	if err != nil {
		return nil, err
	}
	if len(sec.Part) == 0 && sec.Specifier == imap.PartSpecifierNone {
		// The whole message, byte for byte as stored.
		return partial(raw, sec.Partial), nil
	}
	return extractSection(raw, sec), nil
}

// partial cuts <offset.size> out of b (RFC 9051 section 6.4.5).
func partial(b []byte, p *imap.SectionPartial) []byte {
	if p == nil {
		return b
	}
	if p.Offset >= int64(len(b)) {
		return []byte{}
	}
	end := p.Offset + p.Size
	if end > int64(len(b)) {
		end = int64(len(b))
	}
	return b[p.Offset:end]
}

// readObject returns a message object through the server's cache.
func (s *session) readObject(key string) ([]byte, error) {
	if b, ok := s.srv.cache.get(key); ok {
		return b, nil
	}
	rc, err := s.srv.cfg.Blobs.Get(s.ctx, key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("imapgw: read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("imapgw: read %s: %w", key, err)
	}
	s.srv.cache.put(key, b)
	return b, nil
}

// parseObject makes the summary of an entry another session expunged from
// the object, which stays until the collector deletes it (--gc-delay) so
// that sessions that have not seen the EXPUNGE yet can still fetch the
// message. Once it is gone the answer is NO [EXPUNGEISSUED] (RFC 5530).
func (s *session) parseObject(key string) (*message.Summary, error) {
	rc, err := s.srv.cfg.Blobs.Get(s.ctx, key, 0, -1)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, errExpungeIssued
	}
	if err != nil {
		return nil, fmt.Errorf("imapgw: read %s: %w", key, err)
	}
	defer rc.Close()
	sum, err := message.Parse(rc)
	if err != nil {
		return nil, fmt.Errorf("imapgw: read %s: %w", key, err)
	}
	return sum, nil
}
