package store

import (
	"fmt"
	"slices"
	"strings"
)

// systemFlags maps the lower-case spelling of each system flag to its
// canonical form (RFC 9051 section 2.3.2: flags are case-insensitive).
var systemFlags = map[string]string{
	`\seen`:     FlagSeen,
	`\answered`: FlagAnswered,
	`\flagged`:  FlagFlagged,
	`\deleted`:  FlagDeleted,
	`\draft`:    FlagDraft,
}

// NormalizeFlags returns flags in the normal form every driver stores:
// system flags in canonical case, keywords as first given, duplicates
// (compared case-insensitively) removed, sorted case-insensitively. A flag
// that is empty or holds white space or control characters is invalid
// (ErrInvalid).
func NormalizeFlags(flags []string) ([]string, error) {
	out := make([]string, 0, len(flags))
	seen := make(map[string]bool, len(flags))
	for _, f := range flags {
		if f == "" || strings.ContainsFunc(f, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("store: flag %q: %w", f, ErrInvalid)
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
