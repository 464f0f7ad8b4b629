package wire

import "slices"

// Select is SELECT or EXAMINE mailbox [(parameters)] (RFC 9051 section
// 6.3.2, CONDSTORE and QRESYNC parameters of RFC 7162 section 3.1.8 and
// 3.2.5).
type Select struct {
	Mailbox   string // as sent; see DecodeMailbox
	CondStore bool
	QResync   *QResync
}

// QResync is the QRESYNC select parameter.
type QResync struct {
	UIDValidity uint32
	ModSeq      uint64
	KnownUIDs   *NumSet // nil if absent
	// SeqMatch: known sequence numbers and the UIDs they had; nil if absent.
	SeqMatch *[2]NumSet
}

// Create is CREATE mailbox [(USE (attrs))] (RFC 9051 section 6.3.4,
// CREATE-SPECIAL-USE RFC 6154 section 3).
type Create struct {
	Mailbox    string
	SpecialUse []string // e.g. `\Sent`
}

// MailboxArg is a command whose only argument is a mailbox name.
type MailboxArg struct{ Mailbox string }

// Rename is RENAME from to (RFC 9051 section 6.3.6).
type Rename struct{ From, To string }

// List is LIST-EXTENDED (RFC 5258, RFC 9051 section 6.3.9): selection
// options, reference, one or more patterns, return options.
type List struct {
	Selection []string // upper case: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE
	Reference string
	Patterns  []string
	Return    []string // upper case: SUBSCRIBED, CHILDREN, SPECIAL-USE, MYRIGHTS, STATUS
	Status    []string // the items of RETURN (STATUS (...)), RFC 5819
	// Extended: the command used a LIST-EXTENDED form (selection options,
	// a pattern list or return options), which changes the answer.
	Extended bool
}

// Lsub is LSUB reference pattern (RFC 3501 section 6.3.9).
type Lsub struct{ Reference, Pattern string }

// Status is STATUS mailbox (items) (RFC 9051 section 6.3.11).
type Status struct {
	Mailbox string
	Items   []string // upper case
}

// GetQuota is GETQUOTA root (RFC 9208 section 4.2).
type GetQuota struct{ Root string }

// SetQuota is SETQUOTA root (resource limit ...) (RFC 9208 section 4.4).
type SetQuota struct {
	Root   string
	Limits []QuotaLimit
}

// QuotaLimit is one resource of SETQUOTA.
type QuotaLimit struct {
	Resource string // upper case
	Limit    uint64
}

func parseMailboxArg(p *Reader, cmd *Command) error {
	if err := p.sp(); err != nil {
		return err
	}
	m, err := p.astring()
	cmd.Args = &MailboxArg{Mailbox: m}
	return err
}

func parseRename(p *Reader, cmd *Command) error {
	var a Rename
	var err error
	if err = p.sp(); err == nil {
		if a.From, err = p.astring(); err == nil {
			if err = p.sp(); err == nil {
				a.To, err = p.astring()
			}
		}
	}
	cmd.Args = &a
	return err
}

func parseCreate(p *Reader, cmd *Command) error {
	if err := p.sp(); err != nil {
		return err
	}
	var a Create
	var err error
	cmd.Args = &a
	if a.Mailbox, err = p.astring(); err != nil || p.eol() {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	// create-param: RFC 4466 section 2.2; USE is RFC 6154's.
	return p.list(false, func() error {
		name, err := p.keyword()
		if err != nil {
			return err
		}
		if name != "USE" {
			return errSyntax("unknown CREATE parameter %s", name)
		}
		if err := p.sp(); err != nil {
			return err
		}
		return p.list(false, func() error {
			if p.peek() != '\\' {
				return p.unexpected("special-use attribute")
			}
			f, err := p.flag(false)
			a.SpecialUse = append(a.SpecialUse, f)
			return err
		})
	})
}

func parseLsub(p *Reader, cmd *Command) error {
	var a Lsub
	var err error
	if err = p.sp(); err == nil {
		if a.Reference, err = p.astring(); err == nil {
			if err = p.sp(); err == nil {
				a.Pattern, err = p.listMailbox()
			}
		}
	}
	cmd.Args = &a
	return err
}

// listMailbox reads list-mailbox: 1*list-char / string.
func (p *Reader) listMailbox() (string, error) {
	switch p.peek() {
	case '"', '{':
		return p.str()
	}
	s := p.span(isListChar)
	if s == "" {
		return "", p.unexpected("mailbox pattern")
	}
	return s, nil
}

func parseList(p *Reader, cmd *Command) error {
	var a List
	cmd.Args = &a
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		a.Extended = true
		sel, err := p.atomList(true)
		if err != nil {
			return err
		}
		a.Selection = append([]string{}, sel...)
		// RFC 5258 section 3.1: RECURSIVEMATCH modifies a base option.
		if slices.Contains(sel, "RECURSIVEMATCH") && !slices.ContainsFunc(sel, func(o string) bool {
			return o == "SUBSCRIBED" || o == "REMOTE" || o == "SPECIAL-USE"
		}) {
			return errSyntax("RECURSIVEMATCH needs a base option")
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	var err error
	if a.Reference, err = p.astring(); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		a.Extended = true
		err = p.list(false, func() error {
			s, err := p.listMailbox()
			a.Patterns = append(a.Patterns, s)
			return err
		})
	} else {
		var s string
		s, err = p.listMailbox()
		a.Patterns = append(a.Patterns, s)
	}
	if err != nil || p.eol() {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	// list-return-opts: "RETURN" SP "(" [return-option *(SP return-option)] ")"
	kw, err := p.keyword()
	if err != nil {
		return err
	}
	if kw != "RETURN" {
		return errSyntax("expected RETURN, got %s", kw)
	}
	if err := p.sp(); err != nil {
		return err
	}
	a.Extended = true
	a.Return = []string{}
	return p.list(true, func() error {
		opt, err := p.keyword()
		if err != nil {
			return err
		}
		a.Return = append(a.Return, opt)
		if opt == "STATUS" {
			if err := p.sp(); err != nil {
				return err
			}
			a.Status, err = p.atomList(false)
		}
		return err
	})
}

func parseStatus(p *Reader, cmd *Command) error {
	var a Status
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Mailbox, err = p.astring(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	a.Items, err = p.atomList(false)
	return err
}

func parseGetQuota(p *Reader, cmd *Command) error {
	if err := p.sp(); err != nil {
		return err
	}
	r, err := p.astring()
	cmd.Args = &GetQuota{Root: r}
	return err
}

func parseSetQuota(p *Reader, cmd *Command) error {
	var a SetQuota
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Root, err = p.astring(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	a.Limits = []QuotaLimit{}
	return p.list(true, func() error {
		r, err := p.keyword()
		if err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
		n, err := p.number64()
		a.Limits = append(a.Limits, QuotaLimit{Resource: r, Limit: n})
		return err
	})
}

func parseSelect(p *Reader, cmd *Command) error {
	var a Select
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Mailbox, err = p.astring(); err != nil || p.eol() {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	return p.list(false, func() error {
		name, err := p.keyword()
		if err != nil {
			return err
		}
		switch name {
		case "CONDSTORE":
			a.CondStore = true
			return nil
		case "QRESYNC":
			if err := p.sp(); err != nil {
				return err
			}
			a.QResync, err = p.qresync()
			return err
		}
		return errSyntax("unknown SELECT parameter %s", name)
	})
}

// checkSeqMatch checks QRESYNC's message sequence match data (RFC 7162
// section 3.2.5.2): a known-sequence-set and the known-uid-set of as many
// numbers, both ascending and without "*" or "$", so that the n-th
// sequence number pairs with the n-th UID.
func checkSeqMatch(m [2]NumSet) error {
	var count [2]uint64
	for i, set := range m {
		if set.Saved || set.hasStar() {
			return errSyntax("sequence match data must be numbers")
		}
		var prev uint32
		for _, r := range set.Ranges {
			lo, hi := min(r.Start, r.Stop), max(r.Start, r.Stop)
			if lo <= prev {
				return errSyntax("sequence match data must be ascending")
			}
			count[i] += uint64(hi-lo) + 1
			prev = hi
		}
	}
	if count[0] != count[1] {
		return errSyntax("sequence match sets differ in size")
	}
	return nil
}

// qresync reads "(" uidvalidity SP mod-sequence-value [SP known-uids]
// [SP seq-match-data] ")" (RFC 7162 section 7).
func (p *Reader) qresync() (*QResync, error) {
	var q QResync
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var err error
	if q.UIDValidity, err = p.nzNumber(); err != nil {
		return nil, err
	}
	if err = p.sp(); err != nil {
		return nil, err
	}
	if q.ModSeq, err = p.number64(); err != nil {
		return nil, err
	}
	if q.ModSeq == 0 {
		return nil, errSyntax("mod-sequence must not be zero")
	}
	if p.peek() == ' ' {
		p.pos++
		if p.peek() != '(' {
			set, err := p.numSet()
			if err != nil {
				return nil, err
			}
			if set.Saved || set.hasStar() {
				return nil, errSyntax("known-uids must be UIDs")
			}
			q.KnownUIDs = &set
			if p.peek() == ' ' {
				p.pos++
			}
		}
		if p.peek() == '(' {
			p.pos++
			var m [2]NumSet
			if m[0], err = p.numSet(); err != nil {
				return nil, err
			}
			if err = p.sp(); err != nil {
				return nil, err
			}
			if m[1], err = p.numSet(); err != nil {
				return nil, err
			}
			if err = p.expect(')'); err != nil {
				return nil, err
			}
			if err := checkSeqMatch(m); err != nil {
				return nil, err
			}
			q.SeqMatch = &m
		}
	}
	return &q, p.expect(')')
}
