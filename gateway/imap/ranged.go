package imapgw

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/message"
)

// Partial fetches (RFC 9051 section 6.4.5, <offset.size>) and the body
// parts a summary locates read only their bytes of a large object: a
// client that downloads a 20 MB message in 64 KiB pieces reads each piece
// once, not the object once per piece. Objects small enough for the body
// cache are read whole and cached instead, so that the pieces or parts a
// client fetches one after another cost one read.

// readRange returns up to n bytes (n < 0: to the end) of key's object,
// of size objSize, from offset off.
func (s *session) readRange(key string, objSize, off, n int64) ([]byte, error) {
	if b, ok := s.srv.cache.get(key); ok {
		return cut(b, off, n), nil
	}
	if objSize <= s.srv.cache.maxEntry {
		b, err := s.readObject(key)
		if err != nil {
			return nil, err
		}
		return cut(b, off, n), nil
	}
	if off >= objSize || n == 0 {
		return []byte{}, nil
	}
	if n < 0 || n > objSize-off {
		n = objSize - off
	}
	ra := &s.ahead
	if b, ok := ra.get(key, off, n); ok {
		return b, nil
	}
	want := min(ra.window(key, off, n), objSize-off)
	rc, err := s.srv.cfg.Blobs.Get(s.ctx, key, off, want)
	if err != nil {
		return nil, fmt.Errorf("imapgw: read %s: %w", key, err)
	}
	defer rc.Close()
	b := make([]byte, want)
	m, err := io.ReadFull(rc, b)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("imapgw: read %s: %w", key, err)
	}
	n = min(n, int64(m))
	ra.keep(key, off, b[:m], off+n)
	return b[:n], nil
}

// Read-ahead bounds: a client that reads an object piece after piece
// (Thunderbird's 64 KiB pieces) gets the next pieces read with the one it
// asked for, in a window that doubles with every piece that follows the
// last one up to maxAhead, so that a 20 MB download makes some twenty
// object reads rather than three hundred. A piece that does not follow the
// last reads only its own bytes.
const maxAhead = 2 << 20

// readAhead is the window of a large object a session read last. The
// window goes once served to its end, so a session holds at most one
// window, and only while a download is under way.
type readAhead struct {
	key  string
	off  int64  // object offset of data
	data []byte // read ahead; shared with what was served, never changed
	next int64  // where the last piece served ended
	size int64  // the last window read, 0 after a piece that did not follow
}

// get serves [off, off+n) of key from the window, if it holds all of it.
func (ra *readAhead) get(key string, off, n int64) ([]byte, bool) {
	if ra.key != key || off < ra.off || off+n > ra.off+int64(len(ra.data)) {
		return nil, false
	}
	ra.next = off + n
	b := ra.data[off-ra.off : off-ra.off+n]
	if ra.next == ra.off+int64(len(ra.data)) {
		ra.data = nil // all served: a session that stops here holds nothing
	}
	return b, true
}

// window returns how much to read for a piece [off, off+n) of key.
func (ra *readAhead) window(key string, off, n int64) int64 {
	if ra.key != key || off != ra.next {
		ra.size = 0
		return n
	}
	ra.size = min(max(2*ra.size, 2*n), maxAhead)
	return max(n, ra.size)
}

// keep makes b, read at off of key, the window; the piece served ended at
// next.
func (ra *readAhead) keep(key string, off int64, b []byte, next int64) {
	ra.key, ra.off, ra.data, ra.next = key, off, b, next
	if next == off+int64(len(b)) {
		ra.data = nil
	}
}

// cut returns up to n bytes (n < 0: all) of b from off.
func cut(b []byte, off, n int64) []byte {
	if off >= int64(len(b)) {
		return []byte{}
	}
	b = b[off:]
	if n >= 0 && n < int64(len(b)) {
		b = b[:n]
	}
	return b
}

// objectSize is the size of the entry's object: the served size less the
// prefix.
func (d *msgData) objectSize() int64 { return d.m.Size - int64(len(d.m.Prefix)) }

// servedRange returns BODY[]<p>: bytes of the message as served (Prefix +
// object), reading only the object bytes the range covers.
func (d *msgData) servedRange(p *imap.SectionPartial) ([]byte, error) {
	if d.raw != nil {
		return partial(d.raw, p), nil
	}
	if d.loadFull(); d.sumErr != nil && d.m.Prefix == nil {
		return nil, d.sumErr
	}
	prefix := int64(len(d.m.Prefix))
	var out []byte
	if p.Offset < prefix {
		out = append(out, cut(d.m.Prefix, p.Offset, p.Size)...)
	}
	rest := p.Size - int64(len(out))
	if rest > 0 {
		b, err := d.s.readRange(d.m.BlobKey, d.objectSize(), max(p.Offset-prefix, 0), rest)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// part returns the summary's part path and where its body lies in the
// object; ok is false when the summary does not locate it (an older
// summary, a part beyond the limits, a bad summary).
func (d *msgData) part(path []int) (p *message.Part, off int64, ok bool) {
	if len(path) == 0 || len(path) > message.MaxDepth {
		return nil, 0, false
	}
	sum, err := d.summary()
	if err != nil || sum.Size != d.objectSize() {
		return nil, 0, false
	}
	if p = sum.Section(path); p == nil {
		return nil, 0, false
	}
	off, ok = sum.BodyRange(p)
	return p, off, ok
}

// partRange returns BODY[path]<p> (p nil: the whole part) from the bytes
// of the part alone; ok is false when the summary does not locate it.
func (d *msgData) partRange(path []int, p *imap.SectionPartial) (b []byte, ok bool, err error) {
	part, off, ok := d.part(path)
	if !ok {
		return nil, false, nil
	}
	b, err = d.bodyRange(part, off, p)
	return b, true, err
}

// textRange returns BODY[TEXT]<p>: the body of the message, which follows
// its header in the object; ok as for partRange.
func (d *msgData) textRange(p *imap.SectionPartial) (b []byte, ok bool, err error) {
	sum, err := d.summary()
	if err != nil || sum.Size != d.objectSize() {
		return nil, false, nil
	}
	off, ok := sum.BodyRange(&sum.Body)
	if !ok {
		return nil, false, nil
	}
	b, err = d.bodyRange(&sum.Body, off, p)
	return b, true, err
}

// bodyRange reads <p> (nil: all) of part, whose body starts at off.
func (d *msgData) bodyRange(part *message.Part, off int64, p *imap.SectionPartial) ([]byte, error) {
	from, n := int64(0), part.Size
	if p != nil {
		from, n = p.Offset, min(p.Size, part.Size-min(p.Offset, part.Size))
	}
	if from >= part.Size || n == 0 {
		return []byte{}, nil
	}
	return d.s.readRange(d.m.BlobKey, d.objectSize(), off+from, n)
}

// binaryRange returns BINARY[path]<p> (RFC 3516): the part's content with
// its transfer encoding undone, and nothing else (no charset conversion).
// An identity encoding reads only the range, base64 with a regular line
// layout only the lines that hold it; other base64 and quoted-printable
// read the part and decode it. ok is false when the summary does not
// locate the part or the encoding is unknown or broken: the caller then
// extracts it from the whole message as before.
func (d *msgData) binaryRange(path []int, p *imap.SectionPartial) (b []byte, ok bool, err error) {
	part, _, ok := d.part(path)
	if !ok {
		return nil, false, nil
	}
	dec := decoder(part)
	if dec == nil {
		return nil, false, nil
	}
	if identity(part) {
		return d.partRange(path, p)
	}
	if p != nil {
		if b, ok, err := d.base64Range(part, path, p); ok || err != nil {
			return b, ok, err
		}
	}
	raw, _, err := d.partRange(path, nil)
	if err != nil {
		return nil, true, err
	}
	b, err = io.ReadAll(dec(bytes.NewReader(raw)))
	if err != nil {
		return nil, false, nil // broken: extracted from the whole message
	}
	return partial(b, p), true, nil
}

// base64Range returns BINARY[path]<p> of a base64 part whose line layout
// the summary records, decoding only the lines that hold it. ok is false
// when the layout is unknown or the lines do not decode.
func (d *msgData) base64Range(part *message.Part, path []int, p *imap.SectionPartial) ([]byte, bool, error) {
	start, end, skip, ok := part.Base64Range(p.Offset, p.Size)
	if !ok {
		return nil, false, nil
	}
	if start >= end {
		return []byte{}, true, nil // past the end
	}
	raw, _, err := d.partRange(path, &imap.SectionPartial{Offset: start, Size: end - start})
	if err != nil {
		return nil, true, err
	}
	b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(raw)))
	if err != nil {
		return nil, false, nil
	}
	return cut(b, skip, p.Size), true, nil
}

// base64Size is the decoded size of a base64 part whose line layout the
// summary records: full lines decode to 3 bytes per 4 characters, and only
// the padding of the last characters needs reading.
func (d *msgData) base64Size(part *message.Part, path []int) (uint32, bool, error) {
	if part.B64Line <= 0 || part.B64Term <= 0 {
		return 0, false, nil
	}
	line := int64(part.B64Line + part.B64Term)
	full, last := part.Size/line, part.Size%line
	if last%4 != 0 || last == 0 && full > 0 {
		return 0, false, nil // the last line is not whole quanta: decode it all
	}
	n := full*int64(part.B64Line)/4*3 + last/4*3
	if last > 0 {
		tail, _, err := d.partRange(path, &imap.SectionPartial{Offset: part.Size - 2, Size: 2})
		if err != nil {
			return 0, true, err
		}
		n -= int64(bytes.Count(tail, []byte("=")))
	}
	return uint32(n), true, nil
}

// binarySize returns BINARY.SIZE[path]; ok as for binaryRange.
func (d *msgData) binarySize(path []int) (uint32, bool, error) {
	part, _, ok := d.part(path)
	if !ok || decoder(part) == nil {
		return 0, false, nil
	}
	if identity(part) {
		return uint32(part.Size), true, nil
	}
	if n, ok, err := d.base64Size(part, path); ok || err != nil {
		return n, ok, err
	}
	b, ok, err := d.binaryRange(path, nil)
	return uint32(len(b)), ok, err
}

// identity reports whether part's content is its body as stored: the
// identity encodings (RFC 2045 section 6.2), and every multipart, whose
// encoding does not apply to its body (go-message ignores it too).
func identity(part *message.Part) bool {
	switch part.Encoding {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return part.Type == "multipart"
}

// decoder returns what undoes part's transfer encoding, nil for an
// unknown one.
func decoder(part *message.Part) func(io.Reader) io.Reader {
	switch {
	case identity(part):
		return func(r io.Reader) io.Reader { return r }
	case part.Encoding == "base64":
		return func(r io.Reader) io.Reader { return base64.NewDecoder(base64.StdEncoding, &dropSpace{r: r}) }
	case part.Encoding == "quoted-printable":
		return func(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }
	}
	return nil
}

// dropSpace removes the blanks base64 lines may carry (the decoder skips
// only CR and LF).
type dropSpace struct{ r io.Reader }

func (d *dropSpace) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// binary extracts BINARY[path]<p>: from the part's bytes when the
// summary locates it, else from the whole message.
func (d *msgData) binary(path []int, p *imap.SectionPartial) ([]byte, error) {
	if d.raw == nil {
		if b, ok, err := d.binaryRange(path, p); ok || err != nil {
			return b, err
		}
	}
	raw, err := d.body()
	if err != nil {
		return nil, err
	}
	return extractBinary(raw, path, p), nil
}

// binarySectionSize is BINARY.SIZE[path], found as binary finds the
// content.
func (d *msgData) binarySectionSize(path []int) (uint32, error) {
	if d.raw == nil {
		if n, ok, err := d.binarySize(path); ok || err != nil {
			return n, err
		}
	}
	raw, err := d.body()
	if err != nil {
		return 0, err
	}
	return uint32(len(extractBinary(raw, path, nil))), nil
}
