package sqlite

import (
	"slices"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

// applyFlags returns the flag set that op with flags makes of cur (both
// normalized).
func applyFlags(cur []string, op store.FlagOp, flags []string) []string {
	switch op {
	case store.FlagsReplace:
		return flags
	case store.FlagsAdd:
		out, _ := store.NormalizeFlags(append(slices.Clip(cur), flags...))
		return out
	default:
		out := make([]string, 0, len(cur))
		for _, c := range cur {
			if !slices.ContainsFunc(flags, func(f string) bool { return strings.EqualFold(f, c) }) {
				out = append(out, c)
			}
		}
		return out
	}
}

func hasFlag(flags []string, flag string) bool { return slices.Contains(flags, flag) }
