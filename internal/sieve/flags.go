package sieve

import "strings"

// splitFlags turns flag strings into a list of flags: each string may
// hold several separated by spaces, and a flag given twice counts once,
// ignoring case (RFC 5232 section 3).
func splitFlags(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		for _, f := range strings.Fields(s) {
			k := strings.ToLower(f)
			if !seen[k] {
				seen[k] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// flagCommand runs setflag, addflag or removeflag on the internal
// variable or the one named (RFC 5232 section 4).
func (r *runner) flagCommand(name string, cl call) {
	target := ""
	if cl.pos[0] != nil {
		target = strings.ToLower(r.expand(cl.pos[0].Strs[0]))
	}
	given := splitFlags(r.expandAll(cl.pos[1].Strs))
	cur := splitFlags([]string{r.getVar(target)})
	var next []string
	switch name {
	case "setflag":
		next = given
	case "addflag":
		next = splitFlags(append(cur, given...))
	case "removeflag":
		drop := map[string]bool{}
		for _, f := range given {
			drop[strings.ToLower(f)] = true
		}
		for _, f := range cur {
			if !drop[strings.ToLower(f)] {
				next = append(next, f)
			}
		}
	}
	r.setVar(target, r.clip(strings.Join(next, " ")))
}

// flagValues returns the flags hasflag looks at: those of the variables
// named, or of the internal variable.
func (r *runner) flagValues(names *Arg) []string {
	if names == nil {
		return splitFlags([]string{r.getVar("")})
	}
	var vals []string
	for _, n := range r.expandAll(names.Strs) {
		vals = append(vals, r.getVar(n))
	}
	return splitFlags(vals)
}
