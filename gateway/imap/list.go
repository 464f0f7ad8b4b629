package imapgw

import (
	"slices"
	"strings"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// listEntry is a mailbox of the hierarchy, or a missing parent of one
// (mb nil): DeleteMailbox leaves inferiors, so "a/b" may exist without "a".
// A subscription outlives its mailbox (RFC 9051 section 6.3.9), so a
// subscribed name may have no mailbox either (mb nil, subscribed).
type listEntry struct {
	name            string
	mb              *store.Mailbox
	subscribed      bool
	hasChildren     bool
	childSubscribed bool
	// unlisted: a subscribed descendant that the patterns do not match
	// (LSUB returns the entry as \Noselect, RFC 3501 section 6.3.9; LIST
	// with RECURSIVEMATCH returns it for its CHILDINFO, RFC 5258 section
	// 3.5).
	unlisted bool
}

// listOptions are the selection and return options of a LIST (RFC 5258).
type listOptions struct {
	selectSubscribed, selectRecursiveMatch, selectSpecialUse bool
	returnSubscribed                                         bool
	returnStatus                                             []string // nil: no STATUS
}

// list answers LIST and LSUB (RFC 9051 section 6.3.9, RFC 3501 section
// 6.3.9, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, CHILDREN RFC 3348,
// SPECIAL-USE RFC 6154).
func (s *session) list(cmd *wire.Command) error {
	var (
		ref      string
		patterns []string
		opts     listOptions
		lsub     = cmd.Name == "LSUB"
	)
	if lsub {
		a := cmd.Args.(*wire.Lsub)
		ref, patterns = a.Reference, []string{a.Pattern}
		opts.selectSubscribed = true
	} else {
		a := cmd.Args.(*wire.List)
		ref, patterns = a.Reference, a.Patterns
		for _, o := range a.Selection {
			switch o {
			case "SUBSCRIBED":
				opts.selectSubscribed = true
			case "RECURSIVEMATCH":
				opts.selectRecursiveMatch = true
			case "SPECIAL-USE":
				opts.selectSpecialUse = true
			}
		}
		for _, o := range a.Return {
			switch o {
			case "SUBSCRIBED":
				opts.returnSubscribed = true
			case "STATUS":
				if err := checkStatusItems(a.Status); err != nil {
					return err
				}
				opts.returnStatus = append([]string{}, a.Status...)
			}
		}
	}
	ref = s.listName(ref)
	var pats []string
	for _, p := range patterns {
		if p != "" {
			pats = append(pats, s.listName(p))
		}
	}
	w := s.conn.Writer()
	if len(pats) == 0 {
		// An empty pattern asks for the delimiter and the root of ref.
		w.List(lsub, []string{`\Noselect`}, store.Delimiter, listRoot(ref), nil)
		return nil
	}
	defer s.watch()()
	mbs, err := s.mailboxes().ListMailboxes(s.ctx, s.user.ID)
	if err != nil {
		return s.protoErr("list", err, nil)
	}
	var subs []string
	if opts.selectSubscribed {
		if subs, err = s.mailboxes().Subscriptions(s.ctx, s.user.ID); err != nil {
			return s.protoErr("list", err, nil)
		}
	}
	entries := hierarchy(mbs, subs)
	if lsub || opts.selectRecursiveMatch {
		markUnlisted(entries, ref, pats)
	}
	for _, e := range entries {
		if !matchAny(e.name, ref, pats) {
			continue
		}
		if err := s.writeList(e, opts, lsub); err != nil {
			return s.protoErr("list", err, nil)
		}
	}
	return nil
}

// listName decodes a LIST reference or pattern as a mailbox name; one
// that does not decode is matched as sent, and matches nothing stored.
func (s *session) listName(raw string) string {
	if raw == "" {
		return raw
	}
	if name, err := wire.DecodeMailbox(raw, s.utf8Names()); err == nil {
		return name
	}
	return raw
}

// writeList writes the LIST response for e, unless the selection options
// leave it out, and its STATUS for LIST-STATUS.
func (s *session) writeList(e listEntry, opts listOptions, lsub bool) error {
	subscribed := e.subscribed
	lsubParent := lsub && !subscribed && e.unlisted
	childInfoOnly := false // listed for its CHILDINFO alone
	switch {
	case opts.selectSubscribed && !subscribed && !lsubParent:
		// RFC 5258 section 3.5: a parent that does not match the
		// selection is returned, with CHILDINFO, only when a descendant
		// that does would not be returned itself (the pattern stops
		// above it); otherwise the CHILDINFO is redundant.
		if !opts.selectRecursiveMatch || !e.unlisted {
			return nil
		}
		childInfoOnly = true
	case opts.selectSpecialUse && (e.mb == nil || e.mb.SpecialUse == ""):
		return nil
	}
	var attrs []string
	switch {
	case e.mb == nil && subscribed && !lsub:
		// Subscribed, but its mailbox is gone (RFC 5258 section 3.4;
		// \NonExistent implies \Noselect).
		attrs = append(attrs, `\NonExistent`)
	case e.mb == nil || lsubParent:
		attrs = append(attrs, `\Noselect`)
		if e.mb == nil && !subscribed && s.rev2() {
			attrs = append(attrs, `\NonExistent`)
		}
	}
	if e.hasChildren {
		attrs = append(attrs, `\HasChildren`)
	} else {
		attrs = append(attrs, `\HasNoChildren`)
	}
	if subscribed && (opts.returnSubscribed || opts.selectSubscribed) {
		attrs = append(attrs, `\Subscribed`)
	}
	if e.mb != nil {
		// Special-use attributes are always sent: clients look for them
		// in a plain LIST (RFC 6154 section 2 allows it).
		attrs = append(attrs, specialUseAttrs(*e.mb)...)
	}
	var extra func(w *wire.Writer)
	if opts.selectRecursiveMatch && e.childSubscribed {
		// RFC 5258 section 3.5.
		extra = func(w *wire.Writer) {
			w.BeginList().Quoted("CHILDINFO").BeginList().Quoted("SUBSCRIBED").EndList().EndList()
		}
	}
	s.conn.Writer().List(lsub, attrs, store.Delimiter, e.name, extra)
	if e.mb != nil && opts.returnStatus != nil && !childInfoOnly {
		return s.writeStatus(*e.mb, "", opts.returnStatus)
	}
	return nil
}

// hierarchy adds the missing parents to mbs (sorted by name) and the
// subscribed names subs that have no mailbox, and works out which entries
// have children and subscribed children. subs is nil when the subscriptions
// do not matter (then Mailbox.Subscribed says).
func hierarchy(mbs []store.Mailbox, subs []string) []listEntry {
	byName := make(map[string]*listEntry, len(mbs))
	var names []string
	add := func(name string) *listEntry {
		if e, ok := byName[name]; ok {
			return e
		}
		e := &listEntry{name: name}
		byName[name] = e
		names = append(names, name)
		return e
	}
	for i := range mbs {
		e := add(mbs[i].Name)
		e.mb, e.subscribed = &mbs[i], mbs[i].Subscribed
	}
	for _, n := range subs {
		add(n).subscribed = true
	}
	leaves := slices.Clone(names) // the mailboxes and subscribed names
	for _, name := range leaves {
		sub := byName[name].subscribed
		for j := strings.LastIndexByte(name, store.Delimiter); j > 0; j = strings.LastIndexByte(name, store.Delimiter) {
			name = name[:j]
			parent := add(name)
			parent.hasChildren = true
			if sub {
				parent.childSubscribed = true
			}
		}
	}
	slices.Sort(names)
	out := make([]listEntry, len(names))
	for i, n := range names {
		out[i] = *byName[n]
	}
	return out
}

// markUnlisted marks the entries that are not subscribed but have a
// subscribed descendant that no pattern matches: LSUB "" "%" returns
// "foo" as \Noselect when only "foo/bar" is subscribed (RFC 3501 section
// 6.3.9).
func markUnlisted(entries []listEntry, ref string, pats []string) {
	idx := make(map[string]int, len(entries))
	for i, e := range entries {
		idx[e.name] = i
	}
	for _, e := range entries {
		if !e.subscribed || matchAny(e.name, ref, pats) {
			continue
		}
		name := e.name
		for j := strings.LastIndexByte(name, store.Delimiter); j > 0; j = strings.LastIndexByte(name, store.Delimiter) {
			name = name[:j]
			entries[idx[name]].unlisted = true
		}
	}
}

// matchAny reports whether name matches ref with any pattern. INBOX is
// case-insensitive (RFC 9051 section 5.1), so a reference or pattern
// starting with it in any case is matched as "INBOX".
func matchAny(name, ref string, patterns []string) bool {
	inbox := name == store.Inbox || strings.HasPrefix(name, store.Inbox+string(store.Delimiter))
	for _, p := range patterns {
		if matchList(name, ref, p) {
			return true
		}
		if inbox {
			r, q := ref, p
			if r != "" {
				r = canonicalInbox(r)
			} else {
				q = canonicalInbox(q)
			}
			if matchList(name, r, q) {
				return true
			}
		}
	}
	return false
}

// matchList reports whether name matches the reference and pattern of a
// LIST (RFC 9051 section 6.3.9): the pattern follows the reference, unless
// it starts with the delimiter; "*" matches any characters, "%" any but
// the delimiter.
func matchList(name, ref, pattern string) bool {
	full := pattern
	if !strings.HasPrefix(pattern, string(store.Delimiter)) {
		full = ref + pattern
	}
	return matchGlob(name, full)
}

// matchGlob matches name against a pattern of "*" and "%", in time
// proportional to len(name) * len(pattern).
func matchGlob(name, pattern string) bool {
	// ok[j]: name[:i] matches pattern[:j], row by row over i.
	ok := make([]bool, len(pattern)+1)
	ok[0] = true
	for j := 1; j <= len(pattern) && (pattern[j-1] == '*' || pattern[j-1] == '%'); j++ {
		ok[j] = true
	}
	next := make([]bool, len(pattern)+1)
	for i := 1; i <= len(name); i++ {
		c := name[i-1]
		next[0] = false
		for j := 1; j <= len(pattern); j++ {
			switch p := pattern[j-1]; p {
			case '*':
				next[j] = next[j-1] || ok[j]
			case '%':
				next[j] = next[j-1] || (ok[j] && c != store.Delimiter)
			default:
				next[j] = ok[j-1] && p == c
			}
		}
		ok, next = next, ok
	}
	return ok[len(pattern)]
}

// canonicalInbox upper-cases a leading "inbox" level.
func canonicalInbox(s string) string {
	n := len(store.Inbox)
	if len(s) >= n && strings.EqualFold(s[:n], store.Inbox) &&
		(len(s) == n || s[n] == store.Delimiter || s[n] == '*' || s[n] == '%') {
		return store.Inbox + s[n:]
	}
	return s
}

// listRoot is the root of a reference: up to and including its first
// delimiter (RFC 3501 section 6.3.8).
func listRoot(ref string) string {
	if i := strings.IndexByte(ref, store.Delimiter); i >= 0 {
		return ref[:i+1]
	}
	return ""
}
