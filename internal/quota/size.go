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

// ParseSize reads a quota: a byte count with an optional unit (1GiB, 500MB,
// 10M: KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB and the bare letters
// K/M/G/T powers of 1024), "0" or "default" for store.QuotaDefault, and
// "unlimited" (or "-1") for store.QuotaUnlimited.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "unlimited", "none", "-1":
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
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || n*float64(factor) > 1<<62 {
		return 0, fmt.Errorf("quota: bad size %q (want e.g. 500MB, 1GiB, 0 or unlimited)", s)
	}
	return int64(n * float64(factor)), nil
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
