package sieve

import (
	"errors"
	"fmt"
)

// ErrNoScript is what Message.Include returns for a script that does
// not exist.
var ErrNoScript = errors.New("sieve: no such script")

// include runs another script in place (RFC 6609 section 3.2): its own
// requires and variables, the same actions, implicit keep and limits.
func (r *runner) include(c *Command) error {
	cl := c.call
	global := cl.has("global")
	name := r.expand(cl.pos[0].Strs[0])
	key := fmt.Sprintf("%v/%s", global, name)
	if cl.has("once") && r.included[key] {
		return nil
	}
	if r.depth >= r.s.limits.MaxIncludeDepth || r.includes >= r.s.limits.MaxIncludes {
		return errorf(c.Pos, "more than %d nested or %d included scripts", r.s.limits.MaxIncludeDepth, r.s.limits.MaxIncludes)
	}
	src, err := r.load(global, name)
	if errors.Is(err, ErrNoScript) && cl.has("optional") {
		return nil
	}
	if err != nil {
		return errorf(c.Pos, "include %q: %v", name, err)
	}
	sub, err := Compile(src, r.s.limits)
	if err != nil {
		return errorf(c.Pos, "include %q: %v", name, err)
	}
	r.included[key] = true
	r.includes++
	saved := *r
	r.s, r.vars, r.declared = sub, map[string]string{}, map[string]bool{}
	r.depth++
	err = r.block(sub.cmds)
	r.s, r.vars, r.declared, r.depth = saved.s, saved.vars, saved.declared, saved.depth
	r.returned = false
	return err
}

func (r *runner) load(global bool, name string) (string, error) {
	if r.msg.Include == nil {
		return "", ErrNoScript
	}
	return r.msg.Include(global, name)
}
