package sieve

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// expand replaces ${name} and ${digit} references when the script
// requires variables (RFC 5229 section 3). An unknown variable expands
// to the empty string; text that is not a reference stays as it is.
func (r *runner) expand(s string) string {
	if !r.s.require["variables"] || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		if v, ok := r.lookup(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

func (r *runner) expandAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.expand(s)
	}
	return out
}

// lookup returns a variable's value, and false when name is not a
// variable reference at all.
func (r *runner) lookup(name string) (string, bool) {
	if name != "" && strings.Trim(name, "0123456789") == "" {
		n, err := strconv.Atoi(name)
		if err == nil && n < len(r.match) {
			return r.match[n], true
		}
		return "", true
	}
	if !validVariableName(strings.ReplaceAll(name, ".", "_")) {
		return "", false
	}
	return r.getVar(name), true
}

// varMap returns the map holding name and its key there: the internal
// flag variable (""), "global.x" and declared globals are shared by
// included scripts (RFC 6609 section 3.4); others are the script's own.
func (r *runner) varMap(name string) (map[string]string, string) {
	name = strings.ToLower(name)
	if g, ok := strings.CutPrefix(name, "global."); ok {
		return r.globals, g
	}
	if name == "" || r.declared[name] {
		return r.globals, name
	}
	return r.vars, name
}

func (r *runner) getVar(name string) string {
	m, k := r.varMap(name)
	return m[k]
}

func (r *runner) setVar(name, v string) {
	m, k := r.varMap(name)
	m[k] = v
}

func (r *runner) clip(s string) string {
	max := r.s.limits.MaxVariableSize
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// setMatch records the match variables of a successful :matches.
func (r *runner) setMatch(caps []string) {
	if len(caps) > 10 {
		caps = caps[:10]
	}
	r.match = r.match[:0]
	for _, c := range caps {
		r.match = append(r.match, r.clip(c))
	}
}

// set runs the set command with its modifiers, applied from the highest
// precedence down (RFC 5229 section 4.1).
func (r *runner) set(cl call) {
	v := r.expand(cl.pos[1].Strs[0])
	switch {
	case cl.has("lower"):
		v = strings.ToLower(v)
	case cl.has("upper"):
		v = strings.ToUpper(v)
	}
	switch {
	case cl.has("lowerfirst"):
		v = mapFirst(v, unicode.ToLower)
	case cl.has("upperfirst"):
		v = mapFirst(v, unicode.ToUpper)
	}
	if cl.has("quotewildcard") {
		v = strings.NewReplacer(`*`, `\*`, `?`, `\?`, `\`, `\\`).Replace(v)
	}
	if cl.has("length") {
		v = strconv.Itoa(utf8.RuneCountInString(v))
	}
	r.setVar(cl.pos[0].Strs[0], r.clip(v))
}

func mapFirst(s string, f func(rune) rune) string {
	c, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(f(c)) + s[n:]
}
