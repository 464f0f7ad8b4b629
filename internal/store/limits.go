package store

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// Limiter keeps fixed-window counters shared by every process on the same
// store, so that abuse limits (connections, failed logins, messages per
// hour) hold across all edges and gateways.
//
// A counter is identified by key and window: the window [k*window,
// (k+1)*window) of Unix time holds one count, which expires once the window
// is over. Keys are built by LimitKey from encoded values, never from raw
// client input.
type Limiter interface {
	// Hit adds n (>= 0) to the counter of key in the current window and
	// returns the new count.
	Hit(ctx context.Context, key string, n int64, window time.Duration) (int64, error)
	// Count returns the counter of key in the current window (0 if none).
	Count(ctx context.Context, key string, window time.Duration) (int64, error)
	// Release takes n (>= 0) back from the counter of key in the current
	// window, never below zero, and returns the new count: an attempt
	// counted before it was made (Hit first, so that concurrent attempts
	// all count) that turned out not to count.
	Release(ctx context.Context, key string, n int64, window time.Duration) (int64, error)
	// Mark remembers key for ttl from now; marking it again starts the
	// ttl over. Marks expire: they cannot grow without bound.
	Mark(ctx context.Context, key string, ttl time.Duration) error
	// Marked reports whether key was marked less than its ttl ago.
	Marked(ctx context.Context, key string) (bool, error)
}

// LimitKey joins parts with "/" after query-escaping each, so that no part
// can contain "/", "{", "}" or spaces: LimitKey("auth-fail", "ip", ip).
func LimitKey(parts ...string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = url.QueryEscape(p)
	}
	return strings.Join(esc, "/")
}

// LimitWindow returns the index of the fixed window of length window that
// holds now, and how long that window still lasts.
func LimitWindow(now time.Time, window time.Duration) (index int64, left time.Duration) {
	ns := now.UnixNano()
	w := int64(window)
	index = ns / w
	return index, time.Duration((index+1)*w - ns)
}
