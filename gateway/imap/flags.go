package imapgw

import (
	"slices"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

// flagRecent is RFC 3501's \Recent, a session flag (recent.go): clients
// cannot store it, and IMAP4rev2 sessions never see it.
const flagRecent = `\Recent`

// systemFlags are the flags every mailbox supports (RFC 9051 section 2.3.2).
var systemFlags = []string{store.FlagSeen, store.FlagAnswered, store.FlagFlagged, store.FlagDeleted, store.FlagDraft}

// canonicalFlag spells system flags as the index keeps them; flags are
// case-insensitive (RFC 9051 section 2.3.2) and keywords keep their case.
func canonicalFlag(f string) string {
	for _, sf := range systemFlags {
		if strings.EqualFold(f, sf) {
			return sf
		}
	}
	return f
}

// storeFlags converts client flags for the index, dropping \Recent and
// duplicates.
func storeFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		c := canonicalFlag(f)
		if strings.EqualFold(c, flagRecent) || hasFlag(out, c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// hasFlag reports whether flags holds f, ignoring case.
func hasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// mailboxFlags is the FLAGS response of a mailbox: the system flags and
// the keywords in use in it (Mailbox.Keywords); PERMANENTFLAGS adds \* as
// any keyword can be stored.
func mailboxFlags(keywords []string) []string {
	out := append(systemFlags[:len(systemFlags):len(systemFlags)], keywords...)
	return out
}

// writeFlags writes the FLAGS of the selected mailbox, and PERMANENTFLAGS
// unless it is read-only, and records them as what the client knows: at
// SELECT, and first thing in the reply that follows a new keyword (RFC
// 9051 section 7.3.5).
func (s *session) writeFlags(sel *selected, keywords []string) {
	w := s.conn.Writer()
	flags := mailboxFlags(keywords)
	w.Start().Atom("FLAGS").Flags(flags).End()
	perm := "PERMANENTFLAGS ()"
	if !sel.readOnly {
		perm = "PERMANENTFLAGS (" + strings.Join(append(flags, `\*`), " ") + ")"
	}
	w.Status("*", "OK", perm, "Flags permitted")
	sel.keywords = slices.Clone(keywords)
}

// newKeywords reports whether the mailbox's keywords (mb.Keywords, which
// only grow) are more than the client was told of.
func (sel *selected) newKeywords(keywords []string) bool {
	return len(keywords) != len(sel.keywords)
}
