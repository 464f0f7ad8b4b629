package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// comparator is one of the comparators of RFC 4790 a script may name.
type comparator string

const (
	cmpOctet   comparator = "i;octet"
	cmpCasemap comparator = "i;ascii-casemap"
	cmpNumeric comparator = "i;ascii-numeric"
)

func comparatorOf(cl call) comparator {
	return comparator(strings.ToLower(cl.str("comparator", string(cmpCasemap))))
}

// fold maps s to the form the comparator compares.
func (c comparator) fold(s string) string {
	if c == cmpCasemap {
		return asciiLower(s)
	}
	return s
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// compare orders a and b. i;ascii-numeric compares the leading digits
// as numbers, a string that starts with none being positive infinity
// (RFC 4790 section 9.1.1).
func (c comparator) compare(a, b string) int {
	if c != cmpNumeric {
		return strings.Compare(c.fold(a), c.fold(b))
	}
	na, infA := numericValue(a)
	nb, infB := numericValue(b)
	switch {
	case infA && infB:
		return 0
	case infA:
		return 1
	case infB:
		return -1
	}
	return compareDigits(na, nb)
}

// numericValue returns the leading digits of s without leading zeros.
func numericValue(s string) (digits string, inf bool) {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return "", true
	}
	d := strings.TrimLeft(s[:n], "0")
	return d, false
}

func compareDigits(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// relation applies a relational operator (RFC 5231 section 4) to the
// result of compare.
func relation(op string, cmp int) bool {
	switch strings.ToLower(op) {
	case "gt":
		return cmp > 0
	case "ge":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "le":
		return cmp <= 0
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	}
	return false
}

// wildcard matches s against a :matches pattern (RFC 5228 section
// 2.7.1: "*" any sequence, "?" one character, "\" quotes the next).
// Each "*" takes as little as it can, leftmost first, which is what RFC
// 5229 section 3.2 asks of the match variables; the result holds what
// each wildcard matched. Only the last "*" is ever retried, so the cost
// is at most len(s) times len(pattern).
func (c comparator) wildcard(s, pattern string) ([]string, bool) {
	toks := patternTokens(pattern)
	str := []rune(s)
	start := make([]int, len(toks))
	end := make([]int, len(toks))
	pi, si, starP, starS := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(toks) && toks[pi].kind == '*':
			starP, starS = pi, si
			start[pi], end[pi] = si, si
			pi++
		case pi < len(toks) && (toks[pi].kind == '?' || c.runeEqual(toks[pi].r, str[si])):
			start[pi], end[pi] = si, si+1
			pi++
			si++
		case starP >= 0:
			starS++
			end[starP] = starS
			pi, si = starP+1, starS
		default:
			return nil, false
		}
	}
	for ; pi < len(toks); pi++ {
		if toks[pi].kind != '*' {
			return nil, false
		}
		start[pi], end[pi] = len(str), len(str)
	}
	var caps []string
	for i, t := range toks {
		if t.kind != 0 {
			caps = append(caps, string(str[start[i]:end[i]]))
		}
	}
	return caps, true
}

func (c comparator) runeEqual(a, b rune) bool {
	if c == cmpCasemap && a < utf8.RuneSelf && b < utf8.RuneSelf {
		return asciiLower(string(a)) == asciiLower(string(b))
	}
	return a == b
}

// patToken is a literal rune (kind 0), '*' or '?'.
type patToken struct {
	kind byte
	r    rune
}

func patternTokens(p string) []patToken {
	var toks []patToken
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '*', '?':
			toks = append(toks, patToken{kind: byte(rs[i])})
		case '\\':
			if i+1 < len(rs) {
				i++
				toks = append(toks, patToken{r: rs[i]})
			}
		default:
			toks = append(toks, patToken{r: rs[i]})
		}
	}
	return toks
}

// matcher runs the match of one test: its comparator, match type and,
// for :count and :value, its relational operator.
type matcher struct {
	cmp   comparator
	typ   string // is, contains, matches, count, value
	op    string
	onCap func([]string) // receives the match variables of a :matches
}

func newMatcher(cl call) matcher {
	m := matcher{cmp: comparatorOf(cl), typ: "is"}
	for _, t := range matchGroup {
		if a, ok := cl.tags[t]; ok {
			m.typ = t
			if a.Kind == argStrings {
				m.op = a.Strs[0]
			}
		}
	}
	return m
}

// any reports whether any value matches any key; for :count, whether the
// number of values stands in the relation to any key.
func (m matcher) any(values, keys []string) bool {
	if m.typ == "count" {
		n := strconv.Itoa(len(values))
		for _, k := range keys {
			if relation(m.op, m.cmp.compare(n, k)) {
				return true
			}
		}
		return false
	}
	for _, v := range values {
		for _, k := range keys {
			if m.one(v, k) {
				return true
			}
		}
	}
	return false
}

func (m matcher) one(v, k string) bool {
	switch m.typ {
	case "value":
		return relation(m.op, m.cmp.compare(v, k))
	case "contains":
		return strings.Contains(m.cmp.fold(v), m.cmp.fold(k))
	case "matches":
		caps, ok := m.cmp.wildcard(v, k)
		if ok && m.onCap != nil {
			m.onCap(append([]string{v}, caps...))
		}
		return ok
	}
	return m.cmp.compare(v, k) == 0
}
