package sieve

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"
)

// runner is the state of one run of a script on one message.
type runner struct {
	s            *Script
	msg          *Message
	vars         map[string]string // the current script's variables, lower-case names
	globals      map[string]string // shared by included scripts; "" is the internal flag variable
	declared     map[string]bool   // the current script's global declarations
	included     map[string]bool   // scripts included with :once
	includes     int               // scripts included so far
	depth        int               // include nesting
	returned     bool              // return ran: back to the including script
	match        []string          // ${0}..${9} of the last successful :matches
	actions      []Action
	implicitKeep bool
	steps        int
	redirects    int
	stopped      bool
}

// Run runs the script on msg. An error (a limit hit, a bad redirect
// address, conflicting actions) means the caller keeps the message as
// if there were no script (RFC 5228 section 2.10.6).
func (s *Script) Run(msg *Message) (*Result, error) {
	r := &runner{s: s, msg: msg, vars: map[string]string{}, globals: map[string]string{},
		declared: map[string]bool{}, included: map[string]bool{}, implicitKeep: true}
	if err := r.block(s.cmds); err != nil {
		return nil, err
	}
	if r.implicitKeep {
		r.actions = append(r.actions, Action{Kind: Keep, Mailbox: "INBOX", Implicit: true, Flags: splitFlags([]string{r.getVar("")})})
	}
	if err := checkConflicts(r.actions); err != nil {
		return nil, err
	}
	return &Result{Actions: r.actions}, nil
}

func (r *runner) step(p Pos) error {
	r.steps++
	if r.steps > r.s.limits.MaxInstructions {
		return errorf(p, "more than %d instructions", r.s.limits.MaxInstructions)
	}
	return nil
}

func (r *runner) block(cmds []*Command) error {
	taken := false
	for _, c := range cmds {
		if r.stopped || r.returned {
			return nil
		}
		if err := r.step(c.Pos); err != nil {
			return err
		}
		switch c.Name {
		case "if", "elsif", "else":
			if c.Name == "if" {
				taken = false
			}
			if taken {
				continue
			}
			ok := true
			if c.Name != "else" {
				var err error
				if ok, err = r.test(c.Tests[0]); err != nil {
					return err
				}
			}
			if ok {
				taken = true
				if err := r.block(c.Block); err != nil {
					return err
				}
			}
		default:
			if err := r.command(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) command(c *Command) error {
	cl := c.call
	switch c.Name {
	case "stop":
		r.stopped = true
	case "keep":
		r.implicitKeep = false
		return r.add(c.Pos, Action{Kind: Keep, Mailbox: "INBOX", Flags: r.flagsFor(cl)})
	case "discard":
		r.implicitKeep = false
	case "fileinto":
		copyOnly := cl.has("copy")
		r.implicitKeep = r.implicitKeep && copyOnly
		box := r.expand(cl.pos[0].Strs[0])
		return r.add(c.Pos, Action{Kind: FileInto, Mailbox: box, Create: cl.has("create"), Flags: r.flagsFor(cl), Copy: copyOnly})
	case "redirect":
		return r.redirect(c)
	case "reject", "ereject":
		r.implicitKeep = false
		return r.add(c.Pos, Action{Kind: Reject, Reason: r.expand(cl.pos[0].Strs[0]), Extended: c.Name == "ereject"})
	case "vacation":
		return r.add(c.Pos, Action{Kind: Vacation, Vacation: r.vacation(cl)})
	case "set":
		r.set(cl)
	case "global":
		for _, n := range cl.pos[0].Strs {
			r.declared[strings.ToLower(n)] = true
		}
	case "return":
		r.returned = true
	case "include":
		return r.include(c)
	case "setflag", "addflag", "removeflag":
		r.flagCommand(c.Name, cl)
	}
	return nil
}

// add appends a, merging a repeated fileinto or keep into one delivery
// (RFC 5228 section 2.10.3) and bounding the number of actions.
func (r *runner) add(p Pos, a Action) error {
	for i, b := range r.actions {
		if (a.Kind == Keep || a.Kind == FileInto) && (b.Kind == Keep || b.Kind == FileInto) && sameMailbox(a.Mailbox, b.Mailbox) {
			r.actions[i].Flags = splitFlags([]string{strings.Join(b.Flags, " "), strings.Join(a.Flags, " ")})
			return nil
		}
		if a.Kind == Redirect && b.Kind == Redirect && strings.EqualFold(a.Address, b.Address) {
			return nil
		}
		if a.Kind == Vacation && b.Kind == Vacation {
			// RFC 5230 section 4.8: one vacation per run.
			return errorf(p, "more than one vacation action")
		}
	}
	if len(r.actions) >= r.s.limits.MaxActions {
		return errorf(p, "more than %d actions", r.s.limits.MaxActions)
	}
	r.actions = append(r.actions, a)
	return nil
}

func sameMailbox(a, b string) bool {
	if strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX") {
		return true
	}
	return a == b
}

func (r *runner) redirect(c *Command) error {
	raw := r.expand(c.call.pos[0].Strs[0])
	addr, err := mail.ParseAddress(raw)
	if err != nil {
		return errorf(c.Pos, "redirect to an invalid address %q", raw)
	}
	r.redirects++
	if r.redirects > r.s.limits.MaxRedirects {
		return errorf(c.Pos, "more than %d redirects", r.s.limits.MaxRedirects)
	}
	copyOnly := c.call.has("copy")
	r.implicitKeep = r.implicitKeep && copyOnly
	return r.add(c.Pos, Action{Kind: Redirect, Address: addr.Address, Copy: copyOnly})
}

// flagsFor returns the flags of a keep or fileinto: its :flags, else the
// internal variable (RFC 5232 section 5).
func (r *runner) flagsFor(cl call) []string {
	if a, ok := cl.tags["flags"]; ok {
		return splitFlags(r.expandAll(a.Strs))
	}
	return splitFlags([]string{r.getVar("")})
}

// vacation builds the reply of a vacation command. Without :handle the
// handle is derived from the arguments, so a changed text is a new
// reply (RFC 5230 section 4.2).
func (r *runner) vacation(cl call) *VacationReply {
	v := &VacationReply{
		Subject:   r.expand(cl.str("subject", "")),
		From:      r.expand(cl.str("from", "")),
		MIME:      cl.has("mime"),
		Reason:    r.expand(cl.pos[0].Strs[0]),
		Handle:    r.expand(cl.str("handle", "")),
		Addresses: r.expandAll(tagStrs(cl, "addresses")),
	}
	maxP := time.Duration(r.s.limits.MaxDays) * 24 * time.Hour
	v.Period = time.Duration(cl.num("days", 7)) * 24 * time.Hour
	if cl.has("seconds") {
		v.Period = time.Duration(cl.num("seconds", 0)) * time.Second
	}
	v.Period = min(v.Period, maxP)
	if cl.has("days") && v.Period < 24*time.Hour {
		v.Period = 24 * time.Hour // RFC 5230 section 4.1: at least one day
	}
	if v.Handle == "" {
		h := sha256.Sum256([]byte(v.Subject + "\x00" + v.From + "\x00" + v.Reason + "\x00" + boolString(v.MIME)))
		v.Handle = hex.EncodeToString(h[:16])
	}
	return v
}

func tagStrs(cl call, tag string) []string {
	if a, ok := cl.tags[tag]; ok {
		return a.Strs
	}
	return nil
}

func boolString(b bool) string {
	if b {
		return "mime"
	}
	return ""
}

// checkConflicts refuses what RFC 5429 section 2.1 forbids together
// with reject: keeping or filing the message, and a vacation reply.
func checkConflicts(actions []Action) error {
	rejects, others := 0, 0
	for _, a := range actions {
		switch {
		case a.Kind == Reject:
			rejects++
		case a.Kind == Keep && a.Implicit:
		case a.Kind == Keep, a.Kind == FileInto, a.Kind == Vacation:
			others++
		}
	}
	if rejects > 1 || (rejects == 1 && others > 0) {
		return errorf(Pos{}, "reject cannot be combined with keep, fileinto, vacation or another reject")
	}
	return nil
}
