package redis

import "strings"

// decodeFlags reads a flag list as the scripts store it: space-separated,
// in the normal form of store.NormalizeFlags (setflags.lua keeps it).
func decodeFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}
