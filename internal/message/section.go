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
