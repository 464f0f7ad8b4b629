package sortthread

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Thread is one node of a THREAD answer: a message (ID) and its replies.
// ID 0 is a message that is not in the answer (a dummy of RFC 5256: a
// parent referred to but absent, or the common parent of threads merged by
// subject); it always has children.
type Thread struct {
	ID       uint32
	Children []*Thread
}

// OrderedSubject threads msgs with the ORDEREDSUBJECT algorithm (RFC 5256
// section 3): messages grouped by base subject, each group ordered by sent
// date; the first of a group is the root and the others its children (no
// grandchildren); groups ordered by the sent date of their first message.
func OrderedSubject(msgs []Message) []*Thread {
	type entry struct {
		m    *Message
		base string
		pos  int
	}
	entries := make([]entry, len(msgs))
	for i := range msgs {
		entries[i] = entry{&msgs[i], msgs[i].keys().Subject, i}
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		if c := strings.Compare(a.base, b.base); c != 0 {
			return c
		}
		return a.m.sentDate().Compare(b.m.sentDate())
	})
	var roots []*Thread
	var first []entry // the root message of each thread, for the final order
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].base == entries[i].base {
			j++
		}
		root := &Thread{ID: entries[i].m.ID}
		for _, e := range entries[i+1 : j] {
			root.Children = append(root.Children, &Thread{ID: e.m.ID})
		}
		roots = append(roots, root)
		first = append(first, entries[i])
		i = j
	}
	order := make([]int, len(roots))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := first[a].m.sentDate().Compare(first[b].m.sentDate()); c != 0 {
			return c
		}
		return first[a].pos - first[b].pos
	})
	out := make([]*Thread, len(order))
	for i, k := range order {
		out[i] = roots[k]
	}
	return out
}

// container is a node of the REFERENCES algorithm: a message or a dummy.
type container struct {
	msg      *Message // nil for a dummy
	keys     *Keys    // msg's
	pos      int      // position of msg in the input, for ties
	parent   *container
	children []*container
}

func (c *container) isAncestorOf(d *container) bool {
	for p := d; p != nil; p = p.parent {
		if p == c {
			return true
		}
	}
	return false
}

func (c *container) unlink() {
	if p := c.parent; p != nil {
		p.children = slices.DeleteFunc(p.children, func(x *container) bool { return x == c })
		c.parent = nil
	}
}

// link makes child a child of parent, unless that would make a loop.
func link(parent, child *container) {
	if parent == child || child.isAncestorOf(parent) {
		return
	}
	child.unlink()
	child.parent = parent
	parent.children = append(parent.children, child)
}

// date is what siblings are sorted by (RFC 5256 section 2.2), and a
// dummy's is its first child's (section 3, step 4 and 6).
func (c *container) date() (time.Time, int) {
	for c.msg == nil {
		if len(c.children) == 0 {
			return time.Time{}, 0
		}
		c = c.children[0]
	}
	return c.msg.sentDate(), c.pos
}

func sortByDate(cs []*container) {
	slices.SortStableFunc(cs, func(a, b *container) int {
		da, pa := a.date()
		db, pb := b.date()
		if c := da.Compare(db); c != 0 {
			return c
		}
		return pa - pb
	})
}

// References threads msgs with the REFERENCES algorithm (RFC 5256
// section 3): parent and child by Message-ID and References (or
// In-Reply-To), absent parents pruned, threads with the same base subject
// merged, siblings ordered by sent date.
func References(msgs []Message) []*Thread {
	// (1) Link messages by their references.
	byID := make(map[string]*container, len(msgs))
	own := make([]*container, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		c := byID[m.MessageID]
		if m.MessageID == "" || (c != nil && c.msg != nil) {
			// No Message-ID, or a duplicate: a container of its own.
			c = &container{}
		} else if c == nil {
			c = &container{}
			byID[m.MessageID] = c
		}
		c.msg, c.keys, c.pos = m, m.keys(), i
		own[i] = c
	}
	for i := range msgs {
		m, c := &msgs[i], own[i]
		// (1A) Chain the references: each the parent of the next, keeping
		// a link that exists.
		var prev *container
		for _, ref := range m.References {
			if ref == "" {
				continue
			}
			r := byID[ref]
			if r == nil {
				r = &container{}
				byID[ref] = r
			}
			if prev != nil && r.parent == nil {
				link(prev, r)
			}
			prev = r
		}
		// (1B) The last reference is the message's parent, replacing a
		// parent from someone else's (maybe truncated) References.
		if prev != nil && prev != c {
			if !c.isAncestorOf(prev) {
				link(prev, c)
			}
		} else if prev == nil {
			c.unlink()
		}
	}
	// (2) The root set: everything without a parent.
	seen := make(map[*container]bool, len(byID)+len(own))
	var roots []*container
	addRoot := func(c *container) {
		if c.parent == nil && !seen[c] {
			seen[c] = true
			roots = append(roots, c)
		}
	}
	for _, c := range own {
		addRoot(c)
	}
	for _, c := range byID {
		addRoot(c) // dummies; their order does not matter, step 4 sorts
	}
	// (3) Prune dummies.
	roots = prune(roots, true)
	// (4) Sort the root set by date (a dummy by its first child's).
	for _, c := range roots {
		if c.msg == nil {
			sortByDate(c.children)
		}
	}
	sortByDate(roots)
	// (5) Merge threads by base subject.
	roots = mergeBySubject(roots)
	// (6) Sort every set of siblings, the deepest first.
	var sortTree func(cs []*container)
	sortTree = func(cs []*container) {
		for _, c := range cs {
			sortTree(c.children)
		}
		sortByDate(cs)
	}
	sortTree(roots)
	return toThreads(roots)
}

// prune removes dummies without children and splices the children of the
// others into their place; at the root level only a single child is
// promoted (RFC 5256 section 3, step 3).
func prune(cs []*container, root bool) []*container {
	var out []*container
	for _, c := range cs {
		c.children = prune(c.children, false)
		for _, k := range c.children {
			k.parent = c
		}
		if c.msg != nil {
			out = append(out, c)
			continue
		}
		switch {
		case len(c.children) == 0:
			// dropped
		case !root || len(c.children) == 1:
			for _, k := range c.children {
				k.parent = c.parent
			}
			out = append(out, c.children...)
		default:
			out = append(out, c)
		}
	}
	return out
}

// threadSubject is the base subject of a root: its own, or its first
// child's when it is a dummy (step 5.B.i).
func threadSubject(c *container) (string, bool) {
	if c.msg == nil {
		if len(c.children) == 0 {
			return "", false
		}
		c = c.children[0]
		if c.msg == nil {
			return "", false
		}
	}
	return c.keys.Subject, c.keys.ReplyOrForward
}

func mergeBySubject(roots []*container) []*container {
	type subj struct {
		c  *container
		re bool
	}
	table := map[string]subj{}
	for _, c := range roots {
		base, re := threadSubject(c)
		if base == "" {
			continue
		}
		old, ok := table[base]
		if !ok || (old.c.msg != nil && (c.msg == nil || (old.re && !re))) {
			table[base] = subj{c, re}
		}
	}
	removed := map[*container]bool{}
	replaced := map[*container]*container{} // a table entry moved under a new dummy
	for _, c := range roots {
		base, re := threadSubject(c)
		if base == "" {
			continue
		}
		t := table[base]
		if t.c == c {
			continue
		}
		switch {
		case t.c.msg == nil && c.msg == nil:
			for _, k := range c.children {
				k.parent = t.c
			}
			t.c.children = append(t.c.children, c.children...)
			c.children = nil
			removed[c] = true
		case t.c.msg == nil:
			t.c.children = append(t.c.children, c)
			c.parent = t.c
			removed[c] = true
		case re && !t.re:
			t.c.children = append(t.c.children, c)
			c.parent = t.c
			removed[c] = true
		default:
			d := &container{children: []*container{t.c, c}}
			t.c.parent, c.parent = d, d
			replaced[t.c] = d
			removed[c] = true
			table[base] = subj{d, false}
		}
	}
	out := make([]*container, 0, len(roots))
	for _, c := range roots {
		if removed[c] {
			continue
		}
		for replaced[c] != nil {
			c = replaced[c]
		}
		out = append(out, c)
	}
	return out
}

func toThreads(cs []*container) []*Thread {
	out := make([]*Thread, 0, len(cs))
	for _, c := range cs {
		t := &Thread{Children: toThreads(c.children)}
		if c.msg != nil {
			t.ID = c.msg.ID
		}
		out = append(out, t)
	}
	return out
}

// Format writes threads as the THREAD response's data (RFC 5256 section
// 4): "(1 2 3)" for a chain, "(1 (2)(3))" where a message has several
// replies; a dummy has no number of its own: "((1)(2))".
func Format(threads []*Thread) string {
	var b strings.Builder
	for _, t := range threads {
		b.WriteByte('(')
		writeThread(&b, t)
		b.WriteByte(')')
	}
	return b.String()
}

// writeThread writes t's members: its number, then its only child's the
// same way, or each child in parentheses when there are several.
func writeThread(b *strings.Builder, t *Thread) {
	sep := false
	for {
		if t.ID != 0 {
			if sep {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatUint(uint64(t.ID), 10))
			sep = true
		}
		if len(t.Children) != 1 {
			break
		}
		t = t.Children[0]
	}
	if len(t.Children) == 0 {
		return
	}
	if sep {
		b.WriteByte(' ')
	}
	for _, k := range t.Children {
		b.WriteByte('(')
		writeThread(b, k)
		b.WriteByte(')')
	}
}
