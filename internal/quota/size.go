package quota

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

var units = []struct {
	suffix string
	factor int64
}{
	// Longest suffixes first so that "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// ParseSize reads a quota: a whole positive byte count with an optional
// unit (1GiB, 500MB, 10M: KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB
// and the bare letters K/M/G/T powers of 1024), "0" or "default" for
// store.QuotaDefault, and "unlimited" (or "none") for
// store.QuotaUnlimited. Anything else is refused, so that a typo never
// becomes a different quota: no sign, fraction or exponent ("-1", "0.5K"
// and "1e-9" once meant unlimited or default), and nothing past 2^62.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "unlimited", "none":
		return store.QuotaUnlimited, nil
	case "default", "0":
		return store.QuotaDefault, nil
	}
	factor := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, factor = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || strings.Trim(t, "0123456789") != "" || n > (1<<62)/factor {
		return 0, fmt.Errorf("quota: bad size %q (want a whole number of bytes with an optional unit, e.g. 500MB, 1536MiB, or 0, default, unlimited)", s)
	}
	return n * factor, nil
}

// FormatSize writes n bytes with a binary unit, for listings (1.5 GiB).
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTP"[exp]) + "iB"
}
