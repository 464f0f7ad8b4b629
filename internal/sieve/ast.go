package sieve

// argKind is the type of one argument (RFC 5228 section 2.6).
type argKind int

const (
	argTag argKind = iota
	argNumber
	argStrings // a string or a string list
)

// Arg is one argument of a command or test.
type Arg struct {
	Kind   argKind
	Tag    string   // for argTag, lower case without the colon
	Num    int64    // for argNumber
	Strs   []string // for argStrings
	IsList bool     // written as a [list], not a single string
	Pos    Pos
}

// Test is one test, with its nested tests for allof, anyof and not.
type Test struct {
	Name  string
	Args  []Arg
	Tests []*Test
	Pos   Pos

	call call // filled in by the validator
}

// Command is one command with its arguments, its test (if, elsif) and
// its block.
type Command struct {
	Name  string
	Args  []Arg
	Tests []*Test
	Block []*Command
	Pos   Pos

	call call // filled in by the validator
}

// call is a command's or test's arguments sorted out by the validator:
// the tagged arguments by tag and the positional ones in order.
type call struct {
	tags map[string]*Arg // a tag's value, or the tag itself when it takes none
	pos  []*Arg
}

func (c call) has(tag string) bool { _, ok := c.tags[tag]; return ok }

// str returns the single string of tag's value, or def.
func (c call) str(tag, def string) string {
	if a, ok := c.tags[tag]; ok && a.Kind == argStrings && len(a.Strs) > 0 {
		return a.Strs[0]
	}
	return def
}

// num returns the number of tag's value, or def.
func (c call) num(tag string, def int64) int64 {
	if a, ok := c.tags[tag]; ok && a.Kind == argNumber {
		return a.Num
	}
	return def
}
