package message

// Section returns the part that the IMAP part number path names (RFC 9051
// section 6.4.5: the parts of a multipart are numbered from 1; part 1 of a
// message that is not multipart is its body; a message/rfc822 part's
// numbers go on inside the enclosed message), or nil when the summary does
// not describe it (a part beyond MaxParts or MaxDepth, or none at all).
func (s *Summary) Section(path []int) *Part {
	p := &s.Body
	for i, n := range path {
		if i > 0 && p.isMessage() {
			if len(p.Parts) != 1 {
				return nil
			}
			p = &p.Parts[0]
		}
		switch {
		case p.Type == "multipart":
			if n < 1 || n > len(p.Parts) {
				return nil
			}
			p = &p.Parts[n-1]
		case n != 1:
			return nil
		}
	}
	return p
}

// BodyRange returns where the body of p, a part of s, lies in the object:
// [off, off+p.Size). ok is false for a summary made before part offsets
// were recorded.
func (s *Summary) BodyRange(p *Part) (off int64, ok bool) {
	switch {
	case p.Off > 0 || p.Size == 0 && s.Size == 0:
		return p.Off, true
	case p == &s.Body:
		return s.HeaderSize, true // the top-level body follows the header
	}
	return 0, false
}

// Base64Range locates decoded bytes [off, off+n) of a base64 body whose
// line layout is recorded (B64Line): they are decoded from the body bytes
// [start, end), skipping skip bytes of the result. ok is false when the
// layout is not recorded.
func (p *Part) Base64Range(off, n int64) (start, end, skip int64, ok bool) {
	if p.B64Line <= 0 || p.B64Line%4 != 0 || p.B64Term <= 0 || off < 0 || n <= 0 {
		return 0, 0, 0, false
	}
	width, line := int64(p.B64Line), int64(p.B64Line+p.B64Term)
	per := width / 4 * 3                                        // decoded bytes per line
	at := func(d int64) int64 { return d/per*line + d%per/3*4 } // the quantum holding decoded byte d
	start, skip = at(off), off%per%3
	end = at(off+n-1) + 4
	return min(start, p.Size), min(end, p.Size), skip, true
}
