package sieve

import (
	"strings"
)

// Limits bound what one script may cost. The zero value of a field
// means its default.
type Limits struct {
	MaxScriptSize   int   // bytes of script text; default 64 KiB
	MaxDepth        int   // nesting of blocks and tests; default 32
	MaxInstructions int   // commands and tests run per message; default 10000
	MaxRedirects    int   // redirect actions per message; default 4
	MaxVariableSize int   // bytes of one variable's value; default 4000
	MaxActions      int   // actions per message; default 32
	MaxDays         int64 // vacation :days upper bound; default 30
	MaxIncludeDepth int   // nested includes (RFC 6609); default 4
	MaxIncludes     int   // scripts included per message; default 16
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxScriptSize, 64<<10)
	def(&l.MaxDepth, 32)
	def(&l.MaxInstructions, 10000)
	def(&l.MaxRedirects, 4)
	def(&l.MaxVariableSize, 4000)
	def(&l.MaxActions, 32)
	def(&l.MaxIncludeDepth, 4)
	def(&l.MaxIncludes, 16)
	if l.MaxDays <= 0 {
		l.MaxDays = 30
	}
	return l
}

// Script is a compiled script, safe to run concurrently.
type Script struct {
	cmds    []*Command
	require map[string]bool
	limits  Limits
}

// Compile parses and validates src. Errors carry the line and column of
// the offending token or command.
func Compile(src string, limits Limits) (*Script, error) {
	limits = limits.withDefaults()
	if len(src) > limits.MaxScriptSize {
		return nil, errorf(Pos{}, "script larger than %d bytes", limits.MaxScriptSize)
	}
	cmds, err := parse(src, limits.MaxDepth)
	if err != nil {
		return nil, err
	}
	v := &validator{require: map[string]bool{}}
	v.commands, v.tests = specs()
	if err := v.block(cmds, true); err != nil {
		return nil, err
	}
	return &Script{cmds: cmds, require: v.require, limits: limits}, nil
}

// validator checks a parsed script against the specs and fills in each
// node's sorted-out arguments.
type validator struct {
	commands, tests map[string]spec
	require         map[string]bool
}

func (v *validator) block(cmds []*Command, top bool) error {
	prev := ""
	requireAllowed := top
	for _, c := range cmds {
		if c.Name == "require" && !requireAllowed {
			// RFC 5228 section 3.2: require only at the beginning.
			return errorf(c.Pos, "require must come before any other command")
		}
		if c.Name != "require" {
			requireAllowed = false
		}
		if (c.Name == "elsif" || c.Name == "else") && prev != "if" && prev != "elsif" {
			return errorf(c.Pos, "%s without a preceding if", c.Name)
		}
		if err := v.command(c); err != nil {
			return err
		}
		prev = c.Name
	}
	return nil
}

func (v *validator) command(c *Command) error {
	sp, ok := v.commands[c.Name]
	if !ok {
		return errorf(c.Pos, "unknown command %s", c.Name)
	}
	if err := v.needs(c.Pos, sp.ext, c.Name); err != nil {
		return err
	}
	cl, err := v.args(c.Pos, c.Name, sp, c.Args)
	if err != nil {
		return err
	}
	c.call = cl
	if err := v.testCount(c.Pos, c.Name, sp.tests, len(c.Tests)); err != nil {
		return err
	}
	for _, t := range c.Tests {
		if err := v.test(t); err != nil {
			return err
		}
	}
	if sp.block != (c.Block != nil) {
		if sp.block {
			return errorf(c.Pos, "%s needs a block", c.Name)
		}
		return errorf(c.Pos, "%s takes no block", c.Name)
	}
	if err := v.specific(c); err != nil {
		return err
	}
	return v.block(c.Block, false)
}

func (v *validator) test(t *Test) error {
	sp, ok := v.tests[t.Name]
	if !ok {
		return errorf(t.Pos, "unknown test %s", t.Name)
	}
	if err := v.needs(t.Pos, sp.ext, t.Name); err != nil {
		return err
	}
	cl, err := v.args(t.Pos, t.Name, sp, t.Args)
	if err != nil {
		return err
	}
	t.call = cl
	if err := v.testCount(t.Pos, t.Name, sp.tests, len(t.Tests)); err != nil {
		return err
	}
	if t.Name == "size" && len(cl.tags) != 1 {
		return errorf(t.Pos, "size needs :over or :under")
	}
	if cl.has("last") && !cl.has("index") {
		return errorf(t.Pos, ":last needs :index")
	}
	if cl.has("index") && cl.num("index", 0) < 1 {
		return errorf(t.Pos, ":index counts from 1")
	}
	if err := checkDateArgs(t, cl); err != nil {
		return err
	}
	if t.Name == "envelope" {
		for _, p := range cl.pos[0].Strs {
			if lp := strings.ToLower(p); lp != "from" && lp != "to" && !strings.Contains(p, "${") {
				return errorf(t.Pos, "envelope part %q is not supported", p)
			}
		}
	}
	if err := v.matchArgs(t.Pos, cl); err != nil {
		return err
	}
	for _, sub := range t.Tests {
		if err := v.test(sub); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) testCount(p Pos, name string, want, got int) error {
	switch {
	case want == 0 && got > 0:
		return errorf(p, "%s takes no test", name)
	case want == 1 && got != 1:
		return errorf(p, "%s needs exactly one test", name)
	case want == 2 && got == 0:
		return errorf(p, "%s needs a list of tests", name)
	}
	return nil
}

func (v *validator) needs(p Pos, ext, what string) error {
	if ext != "" && !v.require[ext] {
		return errorf(p, "%s needs require %q", what, ext)
	}
	return nil
}

// specific checks what only one command needs.
func (v *validator) specific(c *Command) error {
	switch c.Name {
	case "require":
		for _, ext := range c.call.pos[0].Strs {
			if !knownCapability(ext) {
				return errorf(c.Pos, "unsupported extension %q", ext)
			}
			v.require[ext] = true
		}
	case "global":
		if !v.require["variables"] {
			return errorf(c.Pos, "global needs require \"variables\"")
		}
		for _, name := range c.call.pos[0].Strs {
			if !validVariableName(name) {
				return errorf(c.Pos, "invalid variable name %q", name)
			}
		}
	case "set":
		if name := c.call.pos[0].Strs[0]; !validVariableName(name) {
			return errorf(c.Pos, "invalid variable name %q", name)
		}
	}
	return nil
}

// matchArgs checks the comparator and the relational operator.
func (v *validator) matchArgs(p Pos, cl call) error {
	cmp := strings.ToLower(cl.str("comparator", "i;ascii-casemap"))
	switch cmp {
	case "i;octet", "i;ascii-casemap":
	case "i;ascii-numeric":
		if !v.require["comparator-i;ascii-numeric"] {
			return errorf(p, "comparator %q needs require \"comparator-i;ascii-numeric\"", cmp)
		}
		if cl.has("contains") || cl.has("matches") {
			// RFC 4790 section 9.1: only equality and ordering.
			return errorf(p, "comparator i;ascii-numeric cannot do substring matches")
		}
	default:
		return errorf(p, "unknown comparator %q", cmp)
	}
	for _, t := range []string{"count", "value"} {
		if a, ok := cl.tags[t]; ok && !validRelation(a.Strs[0]) {
			return errorf(a.Pos, "unknown relational operator %q", a.Strs[0])
		}
	}
	return nil
}

// args sorts out a command's or test's arguments by sp.
func (v *validator) args(p Pos, name string, sp spec, args []Arg) (call, error) {
	cl := call{tags: map[string]*Arg{}}
	for i := 0; i < len(args); i++ {
		a := &args[i]
		if a.Kind != argTag {
			cl.pos = append(cl.pos, a)
			continue
		}
		if len(cl.pos) > 0 {
			return cl, errorf(a.Pos, "tag :%s after the positional arguments of %s", a.Tag, name)
		}
		ts, ok := sp.tags[a.Tag]
		if !ok {
			return cl, errorf(a.Pos, "%s does not take :%s", name, a.Tag)
		}
		if err := v.needs(a.Pos, ts.ext, ":"+a.Tag); err != nil {
			return cl, err
		}
		if _, dup := cl.tags[a.Tag]; dup {
			return cl, errorf(a.Pos, "tag :%s given twice", a.Tag)
		}
		val := a
		if ts.val != vNone {
			if i+1 >= len(args) || !fits(&args[i+1], ts.val) {
				return cl, errorf(a.Pos, ":%s needs a %s", a.Tag, kindName(ts.val))
			}
			i++
			val = &args[i]
		}
		cl.tags[a.Tag] = val
	}
	for _, g := range sp.groups {
		n := 0
		for _, t := range g {
			if cl.has(t) {
				n++
			}
		}
		if n > 1 {
			return cl, errorf(p, "%s takes only one of :%s", name, strings.Join(g, " :"))
		}
	}
	return cl, v.positional(p, name, sp, &cl)
}

// positional checks the positional arguments, dropping the optional
// leading ones into place (nil) when they are left out.
func (v *validator) positional(p Pos, name string, sp spec, cl *call) error {
	got := len(cl.pos)
	if got == len(sp.pos) && sp.optLead > 0 {
		cl.pos = append(make([]*Arg, sp.optLead), cl.pos...)
	} else if got != len(sp.pos)+sp.optLead {
		return errorf(p, "%s takes %d arguments, not %d", name, len(sp.pos), got)
	}
	for i, a := range cl.pos {
		want := vStrings
		if i >= sp.optLead {
			want = sp.pos[i-sp.optLead]
		}
		if a != nil && !fits(a, want) {
			return errorf(a.Pos, "%s argument %d must be a %s", name, i+1, kindName(want))
		}
	}
	return nil
}

func fits(a *Arg, k valKind) bool {
	switch k {
	case vString:
		return a.Kind == argStrings && !a.IsList && len(a.Strs) == 1
	case vStrings:
		return a.Kind == argStrings
	case vNumber:
		return a.Kind == argNumber
	}
	return false
}

func kindName(k valKind) string {
	return map[valKind]string{vString: "string", vStrings: "string list", vNumber: "number"}[k]
}

func validRelation(op string) bool {
	switch strings.ToLower(op) {
	case "gt", "ge", "lt", "le", "eq", "ne":
		return true
	}
	return false
}

// validVariableName reports whether s is an identifier, as RFC 5229
// section 3 requires of set's name.
func validVariableName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isIdentStart(c) && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Requires reports whether the script requires the extension ext, so
// that a caller fetches, say, the body only for scripts that test it.
func (s *Script) Requires(ext string) bool { return s.require[ext] }

// checkDateArgs checks the zone and date part of date and currentdate
// when they are constants (RFC 5260 section 4).
func checkDateArgs(t *Test, cl call) error {
	if t.Name != "date" && t.Name != "currentdate" {
		return nil
	}
	if z := cl.str("zone", ""); cl.has("zone") && !strings.Contains(z, "${") {
		if _, ok := parseZone(z); !ok {
			return errorf(t.Pos, "invalid zone %q (want +hhmm or -hhmm)", z)
		}
	}
	part := cl.pos[len(cl.pos)-2].Strs[0]
	if _, ok := dateParts[strings.ToLower(part)]; !ok && !strings.Contains(part, "${") {
		return errorf(t.Pos, "unknown date part %q", part)
	}
	return nil
}
