package pop3

import (
	"errors"
	"strings"
)

// command is one parsed client command line (RFC 1939 section 3).
type command struct {
	// Name is the keyword, upper-cased (keywords are case-insensitive).
	Name string
	// Arg is everything after the single space that follows the keyword,
	// verbatim: PASS takes it whole because passwords may contain spaces.
	Arg string
}

// Errors of parseCommand.
var (
	errEmptyCommand = errors.New("pop3: empty command")
	errBadKeyword   = errors.New("pop3: malformed keyword")
	errBadCharacter = errors.New("pop3: control character in command")
)

// maxKeyword bounds a keyword: RFC 1939 keywords have 3 or 4 characters,
// RFC 2449 extensions ("RESP-CODES" is a capability, not a command) stay short.
const maxKeyword = 16

// parseCommand parses a command line without its line ending.
func parseCommand(line string) (command, error) {
	if line == "" {
		return command{}, errEmptyCommand
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c == 0x7f {
			return command{}, errBadCharacter
		}
	}
	name, arg, _ := strings.Cut(line, " ")
	if name == "" || len(name) > maxKeyword {
		return command{}, errBadKeyword
	}
	for i := 0; i < len(name); i++ {
		if !isKeywordChar(name[i]) {
			return command{}, errBadKeyword
		}
	}
	return command{Name: strings.ToUpper(name), Arg: arg}, nil
}

func isKeywordChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
}

// String renders c as a command line without its line ending; parsing it
// gives c back.
func (c command) String() string {
	if c.Arg == "" {
		return c.Name
	}
	return c.Name + " " + c.Arg
}

// Args splits Arg into its space-separated arguments. Runs of spaces count
// as one separator, which is kinder than RFC 1939's "a single SPACE".
func (c command) Args() []string {
	return strings.Fields(c.Arg)
}

// parseNumber parses a message number or line count: decimal digits only,
// at most 9 of them, so it fits an int everywhere.
func parseNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
