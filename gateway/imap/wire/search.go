package wire

import "time"

// Search is SEARCH [RETURN (options)] [CHARSET charset] keys (RFC 9051
// section 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC 5182).
type Search struct {
	Return  []string // upper case: MIN, MAX, ALL, COUNT, SAVE, UPDATE, PARTIAL; nil without RETURN
	Partial NumRange // PARTIAL's range (RFC 5267 section 4.4), low first
	Charset string   // upper case, "" if absent
	Key     SearchKey
}

// Sort is SORT [RETURN (options)] (criteria) charset keys (RFC 5256
// section 3, ESORT RFC 5267).
type Sort struct {
	Return   []string
	Partial  NumRange
	Criteria []SortCriterion
	Charset  string
	Key      SearchKey
}

// SortCriterion is [REVERSE] key.
type SortCriterion struct {
	Key     string // upper case: ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM, DISPLAYTO
	Reverse bool
}

// Thread is THREAD algorithm charset keys (RFC 5256 section 3).
type Thread struct {
	Algorithm string // upper case: ORDEREDSUBJECT, REFERENCES
	Charset   string
	Key       SearchKey
}

// SearchKey is one search-key (RFC 9051 section 9, RFC 3501 section 9).
// Name is upper case; what the other fields hold depends on it:
//
//	AND                  Keys: a parenthesised list, or the top level
//	NOT                  Keys[0]
//	OR                   Keys[0], Keys[1]
//	SEQSET, UID          Set
//	BCC BODY CC FROM SUBJECT TEXT TO   Value
//	HEADER               Field, Value
//	KEYWORD UNKEYWORD    Value (the flag)
//	EMAILID THREADID     Value (RFC 8474)
//	LARGER SMALLER       Number
//	OLDER YOUNGER        Number, seconds (RFC 5032)
//	BEFORE ON SINCE SENTBEFORE SENTON SENTSINCE
//	SAVEDBEFORE SAVEDON SAVEDSINCE      Date (RFC 8514 for SAVED*)
//	MODSEQ               Number; EntryName and EntryType if given (RFC 7162)
//	others (ALL, SEEN, NEW, SAVEDATESUPPORTED, ...)   nothing
type SearchKey struct {
	Name      string
	Keys      []SearchKey
	Set       *NumSet
	Value     string
	Field     string
	Number    uint64
	Date      time.Time
	EntryName string
	EntryType string
}

// MaxSearchKeys caps the search keys of one command (invariant 9): the
// line cap alone allows thousands, each a test per message.
const MaxSearchKeys = 1000

// Search keys without arguments.
var searchFlagKeys = map[string]bool{
	"ALL": true, "ANSWERED": true, "DELETED": true, "DRAFT": true, "FLAGGED": true,
	"NEW": true, "OLD": true, "RECENT": true, "SEEN": true, "UNANSWERED": true,
	"UNDELETED": true, "UNDRAFT": true, "UNFLAGGED": true, "UNSEEN": true,
	"SAVEDATESUPPORTED": true,
}

var searchStringKeys = map[string]bool{
	"BCC": true, "BODY": true, "CC": true, "FROM": true, "SUBJECT": true,
	"TEXT": true, "TO": true, "EMAILID": true, "THREADID": true,
}

var searchDateKeys = map[string]bool{
	"BEFORE": true, "ON": true, "SINCE": true, "SENTBEFORE": true, "SENTON": true,
	"SENTSINCE": true, "SAVEDBEFORE": true, "SAVEDON": true, "SAVEDSINCE": true,
}

func parseSearch(p *Reader, cmd *Command) error {
	var a Search
	cmd.Args = &a
	var err error
	if a.Return, a.Partial, err = p.searchReturn(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	a.Charset, a.Key, err = p.searchProgram(false)
	return err
}

// searchReturn reads [SP "RETURN" SP "(" [option *(SP option)] ")"].
// RFC 4731 allows an empty list, which means ALL. PARTIAL takes a range
// of positions in the result, nz-number ":" nz-number (RFC 5267 section
// 4.4), returned low first. CONTEXT, a hint only, is left out.
func (p *Reader) searchReturn() ([]string, NumRange, error) {
	const kw = " RETURN "
	var partial NumRange
	if len(p.line)-p.pos < len(kw) || upper(string(p.line[p.pos:p.pos+len(kw)])) != kw {
		return nil, partial, nil
	}
	p.pos += len(kw)
	opts := []string{}
	err := p.list(true, func() error {
		o, err := p.keyword()
		if err != nil {
			return err
		}
		switch o {
		case "MIN", "MAX", "ALL", "COUNT", "SAVE", "UPDATE":
		case "CONTEXT":
			return nil // a hint that the result will be used again (RFC 5267 section 4.2)
		case "PARTIAL":
			if err := p.sp(); err != nil {
				return err
			}
			if partial, err = p.partialRange(); err != nil {
				return err
			}
		default:
			return errSyntax("unknown RETURN option %s", o)
		}
		opts = append(opts, o)
		return nil
	})
	if err != nil {
		return nil, partial, err
	}
	return opts, partial, nil
}

// partialRange reads nz-number ":" nz-number, in either order.
func (p *Reader) partialRange() (NumRange, error) {
	lo, err := p.nzNumber()
	if err != nil {
		return NumRange{}, err
	}
	if err := p.expect(':'); err != nil {
		return NumRange{}, err
	}
	hi, err := p.nzNumber()
	if err != nil {
		return NumRange{}, err
	}
	return NumRange{Start: min(lo, hi), Stop: max(lo, hi)}, nil
}

// searchProgram reads ["CHARSET" SP charset SP] search-key *(SP search-key),
// or with needCharset (SORT, THREAD) charset SP search-key *(SP search-key).
func (p *Reader) searchProgram(needCharset bool) (string, SearchKey, error) {
	var charset string
	if needCharset || p.hasKeyword("CHARSET ") {
		if !needCharset {
			p.pos += len("CHARSET ")
		}
		var err error
		if p.peek() == '"' {
			charset, err = p.quoted()
		} else {
			charset, err = p.atom()
		}
		if err != nil {
			return "", SearchKey{}, err
		}
		charset = upper(charset)
		if err := p.sp(); err != nil {
			return "", SearchKey{}, err
		}
	}
	p.keys = 0
	all := SearchKey{Name: "AND"}
	for {
		k, err := p.searchKey()
		if err != nil {
			return "", all, err
		}
		all.Keys = append(all.Keys, k)
		if p.peek() != ' ' {
			return charset, all, nil
		}
		p.pos++
	}
}

// hasKeyword reports whether the line continues with kw, in any case.
func (p *Reader) hasKeyword(kw string) bool {
	return len(p.line)-p.pos >= len(kw) && upper(string(p.line[p.pos:p.pos+len(kw)])) == kw
}

func (p *Reader) searchKey() (SearchKey, error) {
	if err := p.enter(); err != nil {
		return SearchKey{}, err
	}
	defer p.leave()
	if p.keys++; p.keys > MaxSearchKeys {
		return SearchKey{}, errSyntax("more than %d search keys", MaxSearchKeys)
	}
	if p.peek() == '(' {
		k := SearchKey{Name: "AND"}
		err := p.list(false, func() error {
			sub, err := p.searchKey()
			k.Keys = append(k.Keys, sub)
			return err
		})
		return k, err
	}
	if p.isSeqSetStart() {
		set, err := p.numSet()
		return SearchKey{Name: "SEQSET", Set: &set}, err
	}
	name, err := p.keyword()
	if err != nil {
		return SearchKey{}, err
	}
	k := SearchKey{Name: name}
	if searchFlagKeys[name] {
		return k, nil
	}
	if err := p.sp(); err != nil {
		return k, err
	}
	switch {
	case searchStringKeys[name]:
		k.Value, err = p.astring()
	case searchDateKeys[name]:
		k.Date, err = p.date()
	case name == "KEYWORD" || name == "UNKEYWORD":
		k.Value, err = p.atom()
	case name == "HEADER":
		if k.Field, err = p.astring(); err == nil {
			if err = p.sp(); err == nil {
				k.Value, err = p.astring()
			}
		}
	case name == "LARGER" || name == "SMALLER":
		var n uint32
		n, err = p.number()
		k.Number = uint64(n)
	case name == "OLDER" || name == "YOUNGER":
		var n uint32
		if n, err = p.nzNumber(); err == nil {
			k.Number = uint64(n)
		}
	case name == "UID":
		var set NumSet
		set, err = p.numSet()
		k.Set = &set
	case name == "NOT":
		var sub SearchKey
		sub, err = p.searchKey()
		k.Keys = []SearchKey{sub}
	case name == "OR":
		var a, b SearchKey
		if a, err = p.searchKey(); err == nil {
			if err = p.sp(); err == nil {
				b, err = p.searchKey()
			}
		}
		k.Keys = []SearchKey{a, b}
	case name == "MODSEQ":
		err = p.searchModSeq(&k)
	default:
		err = errSyntax("unknown search key %s", name)
	}
	return k, err
}

// searchModSeq reads [search-modseq-ext SP] mod-sequence-valzer with
// search-modseq-ext = entry-name SP entry-type-req (RFC 7162 section 7).
func (p *Reader) searchModSeq(k *SearchKey) error {
	if p.peek() == '"' {
		var err error
		if k.EntryName, err = p.quoted(); err != nil {
			return err
		}
		// entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE
		if len(k.EntryName) <= len("/flags/") || upper(k.EntryName[:len("/flags/")]) != "/FLAGS/" {
			return errSyntax("bad MODSEQ entry name %q", k.EntryName)
		}
		if err := p.sp(); err != nil {
			return err
		}
		t, err := p.keyword()
		if err != nil {
			return err
		}
		switch t {
		case "PRIV", "SHARED", "ALL":
		default:
			return errSyntax("bad MODSEQ entry type %s", t)
		}
		k.EntryType = t
		if err := p.sp(); err != nil {
			return err
		}
	}
	var err error
	k.Number, err = p.number64()
	return err
}

func parseSort(p *Reader, cmd *Command) error {
	var a Sort
	cmd.Args = &a
	var err error
	if a.Return, a.Partial, err = p.searchReturn(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	err = p.list(false, func() error {
		var c SortCriterion
		k, err := p.keyword()
		if err != nil {
			return err
		}
		if k == "REVERSE" {
			c.Reverse = true
			if err := p.sp(); err != nil {
				return err
			}
			if k, err = p.keyword(); err != nil {
				return err
			}
		}
		switch k {
		case "ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO":
		default:
			return errSyntax("unknown sort key %s", k)
		}
		c.Key = k
		a.Criteria = append(a.Criteria, c)
		return nil
	})
	if err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	a.Charset, a.Key, err = p.searchProgram(true)
	return err
}

func parseThread(p *Reader, cmd *Command) error {
	var a Thread
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Algorithm, err = p.keyword(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	a.Charset, a.Key, err = p.searchProgram(true)
	return err
}

// CancelUpdate is CANCELUPDATE tag *(SP tag) (RFC 5267 section 4.5): the
// tags of the searches whose updates stop.
type CancelUpdate struct{ Tags []string }

func parseCancelUpdate(p *Reader, cmd *Command) error {
	var a CancelUpdate
	cmd.Args = &a
	for {
		if err := p.sp(); err != nil {
			return err
		}
		t, err := p.quoted()
		if err != nil {
			return err
		}
		a.Tags = append(a.Tags, t)
		if p.peek() != ' ' {
			return nil
		}
	}
}
