package imapgw

import (
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/bucketmail/bucketmail/internal/store"
)

// listEntry is a mailbox of the hierarchy, or a missing parent of one
// (mb nil): DeleteMailbox leaves inferiors, so "a/b" may exist without "a".
type listEntry struct {
	name            string
	mb              *store.Mailbox
	hasChildren     bool
	childSubscribed bool
}

// List answers LIST and LSUB (RFC 9051 section 6.3.9, RFC 3501 section
// 6.3.9, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, CHILDREN RFC 3348,
// SPECIAL-USE RFC 6154). Names are matched with imapserver.MatchList.
func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	defer s.watch()()
	if len(patterns) == 0 {
		// An empty pattern asks for the delimiter and the root of ref.
		return w.WriteList(&imap.ListData{
			Attrs:   []imap.MailboxAttr{imap.MailboxAttrNoSelect},
			Delim:   store.Delimiter,
			Mailbox: listRoot(ref),
		})
	}
	mbs, err := s.mailboxes().ListMailboxes(s.ctx, s.user.ID)
	if err != nil {
		return s.protoErr("list", err, nil)
	}
	rev2 := s.conn.EnabledCaps().Has(imap.CapIMAP4rev2)
	for _, e := range hierarchy(mbs) {
		if !matchAny(e.name, ref, patterns) {
			continue
		}
		data, err := s.listData(e, options, rev2)
		if err != nil {
			return s.protoErr("list", err, nil)
		}
		if data == nil {
			continue
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// listData is the LIST response for e, or nil when the selection options
// leave it out.
func (s *session) listData(e listEntry, options *imap.ListOptions, rev2 bool) (*imap.ListData, error) {
	subscribed := e.mb != nil && e.mb.Subscribed
	data := &imap.ListData{Mailbox: e.name, Delim: store.Delimiter}
	switch {
	case options.SelectSubscribed && !subscribed:
		if !options.SelectRecursiveMatch || !e.childSubscribed {
			return nil, nil
		}
	case options.SelectSpecialUse && (e.mb == nil || e.mb.SpecialUse == ""):
		return nil, nil
	}
	if options.SelectRecursiveMatch && e.childSubscribed {
		data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
	}
	if e.mb == nil {
		data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
		if rev2 {
			data.Attrs = append(data.Attrs, imap.MailboxAttrNonExistent)
		}
	}
	if e.hasChildren {
		data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
	} else {
		data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
	}
	if subscribed && (options.ReturnSubscribed || options.SelectSubscribed) {
		data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
	}
	if e.mb == nil {
		return data, nil
	}
	// Special-use attributes are always sent: clients look for them in a
	// plain LIST (RFC 6154 section 2 allows it).
	data.Attrs = append(data.Attrs, specialUseAttrs(*e.mb)...)
	if options.ReturnStatus != nil {
		st, err := s.statusData(*e.mb, options.ReturnStatus)
		if err != nil {
			return nil, err
		}
		data.Status = st
	}
	return data, nil
}

// hierarchy adds the missing parents to mbs (sorted by name) and works out
// which entries have children.
func hierarchy(mbs []store.Mailbox) []listEntry {
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
		add(mbs[i].Name).mb = &mbs[i]
	}
	for i := range mbs {
		name := mbs[i].Name
		for j := strings.LastIndexByte(name, store.Delimiter); j > 0; j = strings.LastIndexByte(name, store.Delimiter) {
			name = name[:j]
			parent := add(name)
			parent.hasChildren = true
			if mbs[i].Subscribed {
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

// matchAny reports whether name matches ref with any pattern. INBOX is
// case-insensitive (RFC 9051 section 5.1), so a reference or pattern
// starting with it in any case is matched as "INBOX".
func matchAny(name, ref string, patterns []string) bool {
	inbox := name == store.Inbox || strings.HasPrefix(name, store.Inbox+string(store.Delimiter))
	for _, p := range patterns {
		if imapserver.MatchList(name, store.Delimiter, ref, p) {
			return true
		}
		if inbox {
			r, q := ref, p
			if r != "" {
				r = canonicalInbox(r)
			} else {
				q = canonicalInbox(q)
			}
			if imapserver.MatchList(name, store.Delimiter, r, q) {
				return true
			}
		}
	}
	return false
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
