package sieve

// parser builds the syntax tree of a script (RFC 5228 section 8.2) with
// one token of look-ahead. Nesting is bounded, so recursion is too.
type parser struct {
	lex      *lexer
	tok      token
	maxDepth int
	depth    int
}

// parse returns the commands of src.
func parse(src string, maxDepth int) ([]*Command, error) {
	p := &parser{lex: newLexer(src), maxDepth: maxDepth}
	if err := p.advance(); err != nil {
		return nil, err
	}
	cmds, err := p.commands()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, errorf(p.tok.pos, "unexpected %s", p.describe())
	}
	return cmds, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) is(punct string) bool { return p.tok.kind == tPunct && p.tok.text == punct }

func (p *parser) describe() string {
	switch p.tok.kind {
	case tEOF:
		return "end of script"
	case tIdent:
		return "identifier " + p.tok.text
	case tTag:
		return "tag :" + p.tok.text
	case tNumber:
		return "number"
	case tString:
		return "string"
	}
	return "'" + p.tok.text + "'"
}

func (p *parser) expect(punct string) error {
	if !p.is(punct) {
		return errorf(p.tok.pos, "expected '%s', found %s", punct, p.describe())
	}
	return p.advance()
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.maxDepth {
		return errorf(p.tok.pos, "nesting deeper than %d", p.maxDepth)
	}
	return nil
}

// commands reads commands up to a '}' or the end.
func (p *parser) commands() ([]*Command, error) {
	var cmds []*Command
	for p.tok.kind == tIdent {
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

func (p *parser) command() (*Command, error) {
	c := &Command{Name: p.tok.text, Pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	args, tests, err := p.arguments()
	if err != nil {
		return nil, err
	}
	c.Args, c.Tests = args, tests
	if p.is(";") {
		return c, p.advance()
	}
	if !p.is("{") {
		return nil, errorf(p.tok.pos, "expected ';' or '{' after %s, found %s", c.Name, p.describe())
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if c.Block, err = p.commands(); err != nil {
		return nil, err
	}
	p.depth--
	if c.Block == nil {
		c.Block = []*Command{}
	}
	return c, p.expect("}")
}

// arguments reads the arguments and then a test or a test list.
func (p *parser) arguments() ([]Arg, []*Test, error) {
	var args []Arg
	for {
		a, ok, err := p.argument()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		args = append(args, a)
	}
	switch {
	case p.tok.kind == tIdent:
		t, err := p.test()
		if err != nil {
			return nil, nil, err
		}
		return args, []*Test{t}, nil
	case p.is("("):
		tests, err := p.testList()
		return args, tests, err
	}
	return args, nil, nil
}

func (p *parser) argument() (Arg, bool, error) {
	a := Arg{Pos: p.tok.pos}
	switch {
	case p.tok.kind == tTag:
		a.Kind, a.Tag = argTag, p.tok.text
	case p.tok.kind == tNumber:
		a.Kind, a.Num = argNumber, p.tok.num
	case p.tok.kind == tString:
		a.Kind, a.Strs = argStrings, []string{p.tok.text}
	case p.is("["):
		strs, err := p.stringList()
		a.Kind, a.Strs, a.IsList = argStrings, strs, true
		return a, true, err
	default:
		return a, false, nil
	}
	return a, true, p.advance()
}

func (p *parser) stringList() ([]string, error) {
	var strs []string
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tString {
			return nil, errorf(p.tok.pos, "expected a string in the list, found %s", p.describe())
		}
		strs = append(strs, p.tok.text)
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.is("]") {
			return strs, p.advance()
		}
		if !p.is(",") {
			return nil, errorf(p.tok.pos, "expected ',' or ']' in the string list, found %s", p.describe())
		}
	}
}

func (p *parser) test() (*Test, error) {
	if p.tok.kind != tIdent {
		return nil, errorf(p.tok.pos, "expected a test, found %s", p.describe())
	}
	t := &Test{Name: p.tok.text, Pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	args, tests, err := p.arguments()
	if err != nil {
		return nil, err
	}
	p.depth--
	t.Args, t.Tests = args, tests
	return t, nil
}

func (p *parser) testList() ([]*Test, error) {
	var tests []*Test
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		t, err := p.test()
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
		if p.is(")") {
			return tests, p.advance()
		}
		if !p.is(",") {
			return nil, errorf(p.tok.pos, "expected ',' or ')' in the test list, found %s", p.describe())
		}
	}
}
