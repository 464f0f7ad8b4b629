package wire

// StoreOp is how STORE changes the flags.
type StoreOp int

const (
	StoreReplace StoreOp = iota // FLAGS
	StoreAdd                    // +FLAGS
	StoreRemove                 // -FLAGS
)

// Store is STORE set [(UNCHANGEDSINCE n)] [+-]FLAGS[.SILENT] flags (RFC 9051
// section 6.4.6, RFC 7162 section 3.1.3).
type Store struct {
	Set            NumSet
	UnchangedSince *uint64 // nil if absent; 0 is allowed
	Op             StoreOp
	Silent         bool
	Flags          []string
}

func parseStore(p *Reader, cmd *Command) error {
	var a Store
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
		// store-modifiers: RFC 4466 section 2.5.
		err = p.list(false, func() error {
			m, err := p.keyword()
			if err != nil {
				return err
			}
			if m != "UNCHANGEDSINCE" {
				return errSyntax("unknown STORE modifier %s", m)
			}
			if err := p.sp(); err != nil {
				return err
			}
			n, err := p.number64()
			a.UnchangedSince = &n
			return err
		})
		if err != nil {
			return err
		}
		if err = p.sp(); err != nil {
			return err
		}
	}
	switch p.peek() {
	case '+':
		a.Op = StoreAdd
		p.pos++
	case '-':
		a.Op = StoreRemove
		p.pos++
	}
	item, err := p.keyword()
	if err != nil {
		return err
	}
	switch item {
	case "FLAGS":
	case "FLAGS.SILENT":
		a.Silent = true
	default:
		return errSyntax("expected FLAGS, got %s", item)
	}
	if err = p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		a.Flags, err = p.flagList()
		return err
	}
	// flag *(SP flag), without parentheses.
	for {
		f, err := p.flag(false)
		if err != nil {
			return err
		}
		a.Flags = append(a.Flags, f)
		if p.peek() != ' ' {
			return nil
		}
		p.pos++
	}
}
