package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// IsKeyword reports whether a normalized flag is a keyword: not a system
// flag, which starts with a backslash (RFC 9051 section 2.3.2).
func IsKeyword(flag string) bool { return flag != "" && flag[0] != '\\' }

// AddKeywords returns cur with the keywords of flags that it lacks
// (compared case-insensitively) appended; it never writes into cur's
// array. Past MaxKeywords it fails with ErrLimit.
func AddKeywords(cur, flags []string) ([]string, error) {
	out := slices.Clip(cur)
	for _, f := range flags {
		if !IsKeyword(f) || containsFold(out, f) {
			continue
		}
		if len(out) >= MaxKeywords {
			return cur, fmt.Errorf("%w: more than %d keywords in a mailbox", ErrLimit, MaxKeywords)
		}
		out = append(out, f)
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// EmailIDOf is the EMAILID (RFC 8474) of the entry given UID uid by an
// insert into a mailbox whose messages' IDs derive from base (a driver's
// random per-mailbox value of [0-9a-f]): "M", base, "-" and the UID. A
// base is never used by two mailboxes, and a mailbox never reuses a UID,
// so no two inserts get the same ID.
func EmailIDOf(base string, uid uint32) string {
	return "M" + base + "-" + strconv.FormatUint(uint64(uid), 10)
}

// ValidObjectID reports whether id is a valid OBJECTID (RFC 8474 section
// 5.1): 1 to 255 characters of A-Z, a-z, 0-9, "_" and "-".
func ValidObjectID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseEmailID splits an EMAILID made by EmailIDOf into its base and UID.
func ParseEmailID(id string) (base string, uid uint32, ok bool) {
	rest, found := strings.CutPrefix(id, "M")
	i := strings.LastIndexByte(rest, '-')
	if !found || i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(rest[i+1:], 10, 32)
	if err != nil || !ValidObjectID(id) || strings.ContainsAny(rest[:i], "-_") {
		return "", 0, false
	}
	return rest[:i], uint32(n), true
}

// SnapshotKeywords returns the keywords of a snapshot's mailbox and of its
// messages, for ImportUser. An import keeps them all, even past
// MaxKeywords: the bound refuses new keywords, it never drops a flag.
func SnapshotKeywords(ms MailboxSnapshot) []string {
	var out []string
	seen := map[string]bool{}
	add := func(flags []string) {
		for _, f := range flags {
			norm, err := NormalizeFlags([]string{f})
			if l := strings.ToLower(f); err == nil && IsKeyword(norm[0]) && !seen[l] {
				seen[l] = true
				out = append(out, f)
			}
		}
	}
	add(ms.Mailbox.Keywords)
	for _, m := range ms.Messages {
		add(m.Flags)
	}
	return out
}
