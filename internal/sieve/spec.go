package sieve

// valKind is what a positional argument or a tag's value must be.
type valKind int

const (
	vNone    valKind = iota // a tag that takes no value
	vString                 // one string
	vStrings                // a string list (or one string)
	vNumber
)

// tagSpec is one allowed tag: the value it takes and the capability it
// needs.
type tagSpec struct {
	val valKind
	ext string
}

// spec describes one command or test: the capability it needs, the tags
// it takes (at most one of each group), its positional arguments, and
// whether it takes tests and a block.
type spec struct {
	ext     string
	tags    map[string]tagSpec
	groups  [][]string
	pos     []valKind
	optLead int // leading positional strings that may be left out
	tests   int // 0 none, 1 exactly one, 2 a list of at least one
	block   bool
}

// Tag groups shared by the match-type tests (RFC 5228 section 2.7).
var (
	comparatorTag = map[string]tagSpec{"comparator": {val: vString}}
	matchTags     = map[string]tagSpec{
		"is": {}, "contains": {}, "matches": {},
		"count": {val: vString, ext: "relational"}, // RFC 5231
		"value": {val: vString, ext: "relational"},
	}
	addressPartTags = map[string]tagSpec{
		"all": {}, "localpart": {}, "domain": {},
		"user": {ext: "subaddress"}, "detail": {ext: "subaddress"}, // RFC 5233
	}
	matchGroup       = []string{"is", "contains", "matches", "count", "value"}
	addressPartGroup = []string{"all", "localpart", "domain", "user", "detail"}
	flagsTag         = map[string]tagSpec{"flags": {val: vStrings, ext: "imap4flags"}}
)

func merge(ms ...map[string]tagSpec) map[string]tagSpec {
	out := map[string]tagSpec{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// specs returns the commands and the tests this package knows.
func specs() (commands, tests map[string]spec) {
	matchSpec := func(ext string, pos ...valKind) spec {
		return spec{ext: ext, tags: merge(comparatorTag, matchTags), groups: [][]string{matchGroup}, pos: pos}
	}
	addrSpec := func(ext string) spec {
		s := matchSpec(ext, vStrings, vStrings)
		s.tags = merge(s.tags, addressPartTags)
		s.groups = append(s.groups, addressPartGroup)
		return s
	}
	dateSpec := func(name string, pos ...valKind) spec {
		s := matchSpec("date", pos...)
		s.tags = merge(s.tags, map[string]tagSpec{"zone": {val: vString}})
		if name == "date" {
			s.tags["originalzone"] = tagSpec{}
			s.groups = append(s.groups, []string{"zone", "originalzone"})
		}
		return s
	}
	setTags := map[string]tagSpec{"lower": {}, "upper": {}, "lowerfirst": {}, "upperfirst": {}, "quotewildcard": {}, "length": {}}
	flagCmd := spec{ext: "imap4flags", pos: []valKind{vStrings}, optLead: 1}
	hasflag := matchSpec("imap4flags", vStrings)
	hasflag.optLead = 1
	body := matchSpec("body", vStrings)
	body.tags = merge(body.tags, map[string]tagSpec{"raw": {}, "content": {val: vStrings}, "text": {}})
	body.groups = append(body.groups, []string{"raw", "content", "text"})
	commands = map[string]spec{
		"require": {pos: []valKind{vStrings}},
		"if":      {tests: 1, block: true},
		"elsif":   {tests: 1, block: true},
		"else":    {block: true},
		"stop":    {},
		"keep":    {tags: flagsTag},
		"discard": {},
		"fileinto": {ext: "fileinto", pos: []valKind{vString}, tags: merge(flagsTag, map[string]tagSpec{
			"copy": {ext: "copy"}, "create": {ext: "mailbox"},
		})},
		"redirect": {pos: []valKind{vString}, tags: map[string]tagSpec{"copy": {ext: "copy"}}},
		"reject":   {ext: "reject", pos: []valKind{vString}},
		"ereject":  {ext: "ereject", pos: []valKind{vString}},
		"vacation": {ext: "vacation", pos: []valKind{vString}, groups: [][]string{{"days", "seconds"}},
			tags: map[string]tagSpec{
				"days": {val: vNumber}, "seconds": {val: vNumber, ext: "vacation-seconds"},
				"subject": {val: vString}, "from": {val: vString}, "addresses": {val: vStrings},
				"mime": {}, "handle": {val: vString},
			}},
		"setflag":    flagCmd,
		"addflag":    flagCmd,
		"removeflag": flagCmd,
		"include": {ext: "include", pos: []valKind{vString}, groups: [][]string{{"personal", "global"}},
			tags: map[string]tagSpec{"personal": {}, "global": {}, "once": {}, "optional": {}}},
		"return": {ext: "include"},
		"global": {ext: "include", pos: []valKind{vStrings}},
		"set": {ext: "variables", pos: []valKind{vString, vString}, tags: setTags,
			groups: [][]string{{"lower", "upper"}, {"lowerfirst", "upperfirst"}}},
	}
	tests = map[string]spec{
		"address":  withIndex(addrSpec("")),
		"envelope": addrSpec("envelope"),
		"header":   withIndex(matchSpec("", vStrings, vStrings)),
		"exists":   {pos: []valKind{vStrings}},
		"size": {pos: []valKind{vNumber}, tags: map[string]tagSpec{"over": {}, "under": {}},
			groups: [][]string{{"over", "under"}}},
		"allof":         {tests: 2},
		"anyof":         {tests: 2},
		"not":           {tests: 1},
		"true":          {},
		"false":         {},
		"body":          body,
		"hasflag":       hasflag,
		"string":        matchSpec("variables", vStrings, vStrings),
		"mailboxexists": {ext: "mailbox", pos: []valKind{vStrings}},
		"date":          withIndex(dateSpec("date", vString, vString, vStrings)),
		"currentdate":   dateSpec("currentdate", vString, vStrings),
	}
	return commands, tests
}

// Capabilities lists the extensions a script may require, in the order
// ManageSieve announces them (RFC 5804 section 1.7).
var Capabilities = []string{
	"fileinto", "reject", "ereject", "envelope", "body", "imap4flags",
	"variables", "relational", "subaddress", "copy", "vacation",
	"vacation-seconds", "mailbox", "date", "index", "include",
	"comparator-i;octet", "comparator-i;ascii-casemap", "comparator-i;ascii-numeric",
}

func knownCapability(c string) bool {
	for _, k := range Capabilities {
		if k == c {
			return true
		}
	}
	return false
}

// withIndex adds the :index and :last tags of RFC 5260 section 6.
func withIndex(s spec) spec {
	s.tags = merge(s.tags, map[string]tagSpec{"index": {val: vNumber, ext: "index"}, "last": {ext: "index"}})
	return s
}
