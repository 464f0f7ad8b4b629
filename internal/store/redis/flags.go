package redis

import (
	"slices"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

// systemFlags maps the lower-case spelling of each system flag to its
// canonical form (RFC 9051 section 2.3.2: flags are case-insensitive).
var systemFlags = map[string]string{
	`\seen`:     store.FlagSeen,
	`\answered`: store.FlagAnswered,
	`\flagged`:  store.FlagFlagged,
	`\deleted`:  store.FlagDeleted,
	`\draft`:    store.FlagDraft,
}

// normFlags returns flags with system flags in canonical case, keywords as
// first given, duplicates (compared case-insensitively) removed, sorted
// case-insensitively: the same normal form as the sqlite driver, which
// setflags.lua keeps. A flag that is empty or holds white space or control
// characters is invalid.
func normFlags(flags []string) ([]string, error) {
	out := make([]string, 0, len(flags))
	seen := make(map[string]bool, len(flags))
	for _, f := range flags {
		if f == "" || strings.ContainsFunc(f, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, errorf(store.ErrInvalid, "flag %q", f)
		}
		low := strings.ToLower(f)
		if seen[low] {
			continue
		}
		seen[low] = true
		if c, ok := systemFlags[low]; ok {
			f = c
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out, nil
}

func decodeFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}
