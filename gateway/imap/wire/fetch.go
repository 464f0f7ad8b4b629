package wire

// Fetch is FETCH set items [modifiers] (RFC 9051 section 6.4.5), with the
// CHANGEDSINCE and VANISHED modifiers of RFC 7162 section 3.1.4 and 3.2.6.
type Fetch struct {
	Set   NumSet
	Macro string // "ALL", "FAST" or "FULL" if one was used; Items holds its expansion
	Items []FetchItem
	// ChangedSince is the CHANGEDSINCE modifier, 0 if absent.
	ChangedSince uint64
	Vanished     bool
}

// FetchItem is one fetch-att. Name is upper case: ENVELOPE, FLAGS,
// INTERNALDATE, RFC822, RFC822.HEADER, RFC822.TEXT, RFC822.SIZE, BODY,
// BODYSTRUCTURE, UID, MODSEQ, BINARY, BINARY.SIZE, PREVIEW, EMAILID,
// THREADID, SAVEDATE. BODY with a Section is BODY[...]; BINARY and
// BINARY.SIZE always have one.
type FetchItem struct {
	Name    string
	Section *Section
	Peek    bool     // BODY.PEEK or BINARY.PEEK
	Partial *Partial // <offset.count>
	Lazy    bool     // PREVIEW (LAZY), RFC 8970
}

// Section is a body section: [part][.specifier] (RFC 9051 section 6.4.5).
type Section struct {
	Part      []uint32
	Specifier string   // "", HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME
	Fields    []string // for HEADER.FIELDS[.NOT], as sent
}

// Partial is <offset.count>.
type Partial struct{ Offset, Count uint64 }

// Fetch macros (RFC 9051 section 6.4.5).
var (
	macroFast = []string{"FLAGS", "INTERNALDATE", "RFC822.SIZE"}
	macroAll  = append(macroFast[:3:3], "ENVELOPE")
	macroFull = append(macroAll[:4:4], "BODY")
)

var simpleFetchAtts = map[string]bool{
	"ENVELOPE": true, "FLAGS": true, "INTERNALDATE": true, "RFC822": true,
	"RFC822.HEADER": true, "RFC822.TEXT": true, "RFC822.SIZE": true,
	"BODYSTRUCTURE": true, "UID": true, "MODSEQ": true, "EMAILID": true,
	"THREADID": true, "SAVEDATE": true,
}

func parseFetch(p *Reader, cmd *Command) error {
	var a Fetch
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Set, err = p.numSet(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		err = p.list(false, func() error {
			it, err := p.fetchAtt()
			a.Items = append(a.Items, it)
			return err
		})
	} else {
		name := p.fetchName()
		var macro []string
		switch name {
		case "ALL":
			macro = macroAll
		case "FAST":
			macro = macroFast
		case "FULL":
			macro = macroFull
		}
		if macro != nil {
			a.Macro = name
			for _, n := range macro {
				a.Items = append(a.Items, FetchItem{Name: n})
			}
		} else {
			p.pos -= len(name)
			var it FetchItem
			it, err = p.fetchAtt()
			a.Items = append(a.Items, it)
		}
	}
	if err != nil || p.eol() {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	// fetch-modifiers: RFC 4466 section 2.4, RFC 7162 section 7.
	err = p.list(false, func() error {
		m, err := p.keyword()
		if err != nil {
			return err
		}
		switch m {
		case "CHANGEDSINCE":
			if err := p.sp(); err != nil {
				return err
			}
			if a.ChangedSince, err = p.number64(); err == nil && a.ChangedSince == 0 {
				err = errSyntax("CHANGEDSINCE must not be zero")
			}
			return err
		case "VANISHED":
			a.Vanished = true
			return nil
		}
		return errSyntax("unknown FETCH modifier %s", m)
	})
	if err == nil && a.Vanished && (!cmd.UID || a.ChangedSince == 0) {
		// RFC 7162 section 3.2.6.
		err = errSyntax("VANISHED needs UID FETCH and CHANGEDSINCE")
	}
	return err
}

// fetchName reads the name part of a fetch-att: letters, digits, "." and "-".
func (p *Reader) fetchName() string {
	start := p.pos
	for p.pos < len(p.line) {
		c := p.line[p.pos]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			break
		}
		p.pos++
	}
	if p.pos == start {
		return ""
	}
	return upperWord(p.line[start:p.pos])
}

func (p *Reader) fetchAtt() (FetchItem, error) {
	name := p.fetchName()
	it := FetchItem{Name: name}
	switch {
	case simpleFetchAtts[name]:
		return it, nil
	case name == "PREVIEW":
		if p.peek() == ' ' && p.pos+1 < len(p.line) && p.line[p.pos+1] == '(' {
			p.pos++
			mods, err := p.atomList(false)
			if err != nil {
				return it, err
			}
			for _, m := range mods {
				if m != "LAZY" {
					return it, errSyntax("unknown PREVIEW modifier %s", m)
				}
				it.Lazy = true
			}
		}
		return it, nil
	case name == "BODY" && p.peek() != '[':
		return it, nil
	case name == "BODY" || name == "BODY.PEEK":
		it.Name, it.Peek = "BODY", name == "BODY.PEEK"
		s, err := p.section()
		if err != nil {
			return it, err
		}
		it.Section = s
	case name == "BINARY" || name == "BINARY.PEEK" || name == "BINARY.SIZE":
		// RFC 3516 section 4.2, RFC 9051 section 6.4.5.
		it.Name, it.Peek = "BINARY", name == "BINARY.PEEK"
		if name == "BINARY.SIZE" {
			it.Name = name
		}
		if err := p.expect('['); err != nil {
			return it, err
		}
		it.Section = &Section{}
		if p.peek() != ']' {
			part, err := p.sectionPart()
			if err != nil {
				return it, err
			}
			it.Section.Part = part
		}
		if err := p.expect(']'); err != nil {
			return it, err
		}
		if name == "BINARY.SIZE" {
			return it, nil
		}
	case name == "":
		return it, p.unexpected("fetch attribute")
	default:
		return it, errSyntax("unknown fetch attribute %s", name)
	}
	if p.peek() == '<' {
		p.pos++
		var pa Partial
		var err error
		if pa.Offset, err = p.number64(); err != nil {
			return it, err
		}
		if err = p.expect('.'); err != nil {
			return it, err
		}
		if pa.Count, err = p.number64(); err != nil {
			return it, err
		}
		if pa.Count == 0 {
			return it, errSyntax("partial count must not be zero")
		}
		if err = p.expect('>'); err != nil {
			return it, err
		}
		it.Partial = &pa
	}
	return it, nil
}

// section reads "[" [section-spec] "]".
func (p *Reader) section() (*Section, error) {
	if err := p.expect('['); err != nil {
		return nil, err
	}
	s := &Section{}
	if p.peek() >= '0' && p.peek() <= '9' {
		part, err := p.sectionPart()
		if err != nil {
			return nil, err
		}
		s.Part = part
		if p.peek() != '.' {
			return s, p.expect(']')
		}
		p.pos++
	}
	if p.peek() == ']' {
		if s.Part != nil {
			return nil, errSyntax("expected a section text after the part")
		}
		p.pos++
		return s, nil
	}
	spec := p.fetchName()
	switch spec {
	case "HEADER", "TEXT":
	case "MIME":
		if s.Part == nil {
			return nil, errSyntax("MIME needs a part number")
		}
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		if err := p.sp(); err != nil {
			return nil, err
		}
		err := p.list(false, func() error {
			f, err := p.astring()
			if err == nil && !isFieldName(f) {
				err = errSyntax("bad header field name")
			}
			s.Fields = append(s.Fields, f)
			return err
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, errSyntax("bad section %q", spec)
	}
	s.Specifier = spec
	return s, p.expect(']')
}

// sectionPart reads nz-number *("." nz-number); a "." not followed by a
// digit is left for the section text.
func (p *Reader) sectionPart() ([]uint32, error) {
	var part []uint32
	for {
		n, err := p.nzNumber()
		if err != nil {
			return nil, err
		}
		part = append(part, n)
		if p.peek() != '.' || p.pos+1 >= len(p.line) || p.line[p.pos+1] < '0' || p.line[p.pos+1] > '9' {
			return part, nil
		}
		p.pos++
	}
}

// isFieldName: a header field name is 1*ftext, printable ASCII but ":"
// (RFC 5322 section 3.6.8).
func isFieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == ':' {
			return false
		}
	}
	return s != ""
}
