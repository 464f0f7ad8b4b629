package auth

import "strings"

// NormalizeName returns the login name as accounts and the failure
// counters of the abuse limits know it: without surrounding white space
// (Unicode included), lower-case, and without a trailing dot on the
// domain (RFC 1034 section 3.1: "example.org." is the same domain). Every
// protocol calls it once and passes the result both to the limits and to
// Login, so that no spelling of a name gets counters of its own.
func NormalizeName(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	return strings.TrimRight(name, ".")
}
