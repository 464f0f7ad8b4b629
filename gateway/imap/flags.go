package imapgw

import (
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

// flagRecent is RFC 3501's \Recent, which this server never sets: IMAP4rev2
// dropped it and it cannot be kept meaningful across many gateways.
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

// mailboxFlags is the FLAGS response of SELECT; PERMANENTFLAGS adds \* as
// any keyword can be stored.
func mailboxFlags() []string {
	return append(systemFlags[:len(systemFlags):len(systemFlags)], "$Forwarded", "$Junk", "$NotJunk")
}
