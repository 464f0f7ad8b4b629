package abuse

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// KnownTTL is how long a successful login makes its client network (the
// IP, or its /64 for IPv6) known to the account: failures of strangers
// do not block the account for a known network, so that guessing a
// user's password cannot lock the user out.
const KnownTTL = 30 * 24 * time.Hour

// Keys of the authentication counters and marks. Accounts are names
// already normalised by auth.NormalizeName; lower-casing again keeps the
// counters shared even for a caller that forgot.
func authIPKey(ip string) string { return store.LimitKey("auth-fail", "ip", ip) }
func authAcctKey(acct string) string {
	return store.LimitKey("auth-fail", "acct", strings.ToLower(acct))
}
func knownKey(acct, ip string) string {
	return store.LimitKey("auth-known", strings.ToLower(acct), ClientNetwork(ip))
}

// ClientNetwork returns the network that a login from ip makes known: the
// IPv4 address itself, or the /64 of an IPv6 address (RFC 4291 section
// 2.5.1: a host picks any interface ID of its /64, and privacy addresses,
// RFC 8981, change it daily).
func ClientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// Attempt is one authentication, counted as a failure before the password
// is checked: concurrent guesses all count, so that no more than
// AuthFailures of them per window are ever checked. A nil *Attempt (no
// limits) does nothing.
type Attempt struct {
	l       *Limits
	ip      string
	account string
	ipHit   bool  // the IP counter holds this attempt
	acctHit bool  // the account counter holds this attempt
	n       int64 // the higher of the two counts with this attempt
}

// BeginAuth reserves an authentication of account (normalised; may be "")
// from ip against the failure limits, before any password is checked. It
// returns ok false when the IP, or the account for a client network that
// has not logged in to it in the last KnownTTL, is at its limit: the
// attempt must then be refused with a temporary error. Otherwise the
// caller ends the attempt with Succeeded, Failed or Abandon.
func (l *Limits) BeginAuth(ctx context.Context, ip, account string) (a *Attempt, ok bool) {
	if l == nil || l.cfg.AuthFailures <= 0 {
		return nil, true
	}
	a = &Attempt{l: l, ip: ip, account: account}
	known := account != "" && l.marked(ctx, knownKey(account, ip))
	// The account counter is reserved only once the IP's is within its
	// limit: an attempt refused for its IP must not hold, even for a
	// moment, a place under the account's limit that another IP's attempt
	// needs. Refused attempts are not checked, so they do not count: the
	// counters stay at the limit until their window ends. The caller logs
	// the refusal, in the shape of its protocol's other authentication
	// lines.
	a.n, a.ipHit = l.hit(ctx, authIPKey(ip), 1, AuthWindow)
	if a.n > l.cfg.AuthFailures {
		a.release(ctx)
		return nil, false
	}
	if account != "" && !known {
		var n int64
		n, a.acctHit = l.hit(ctx, authAcctKey(account), 1, AuthWindow)
		if n > l.cfg.AuthFailures {
			a.release(ctx)
			return nil, false
		}
		a.n = max(a.n, n)
	}
	return a, true
}

// Succeeded ends an attempt whose password was right: it does not count
// as a failure, and the client's network becomes known to the account for
// KnownTTL.
func (a *Attempt) Succeeded(ctx context.Context) {
	if a == nil {
		return
	}
	a.release(ctx)
	if a.account != "" {
		a.l.mark(ctx, knownKey(a.account, a.ip), KnownTTL)
	}
}

// Abandon ends an attempt that could not be checked (a storage failure):
// it does not count.
func (a *Attempt) Abandon(ctx context.Context) {
	if a != nil {
		a.release(ctx)
	}
}

// Failed ends an attempt whose password was wrong: it stays counted, and
// Failed waits the growing delay (bounded by MaxDelay and ctx) that slows
// guessing: from half of AuthFailures on, 1 s doubled with each further
// failure. It reports whether the IP or the account is now at its limit.
func (a *Attempt) Failed(ctx context.Context) (blocked bool) {
	if a == nil {
		return false
	}
	if d := a.l.delay(a.n); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return a.n >= a.l.cfg.AuthFailures
}

func (a *Attempt) release(ctx context.Context) {
	if a.ipHit {
		a.l.release(ctx, authIPKey(a.ip), AuthWindow)
	}
	if a.acctHit {
		a.l.release(ctx, authAcctKey(a.account), AuthWindow)
	}
	a.ipHit, a.acctHit = false, false
}

// delay is the wait after the n-th failure.
func (l *Limits) delay(n int64) time.Duration {
	from := (l.cfg.AuthFailures + 1) / 2
	if n < from {
		return 0
	}
	steps := n - from
	if steps > 20 {
		return l.cfg.MaxDelay
	}
	return min(time.Second<<steps, l.cfg.MaxDelay)
}

func (l *Limits) release(ctx context.Context, key string, w time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.StoreTimeout)
	defer cancel()
	if _, err := l.l.Release(ctx, key, 1, w); err != nil {
		l.log.Warn("abuse limit counter failed", slog.String("key", key), slog.String("error", err.Error()))
	}
}

func (l *Limits) mark(ctx context.Context, key string, ttl time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.StoreTimeout)
	defer cancel()
	if err := l.l.Mark(ctx, key, ttl); err != nil {
		l.log.Warn("abuse limit mark failed", slog.String("key", key), slog.String("error", err.Error()))
	}
}

// marked reports whether key is marked; a store failure reads as not
// marked, which only keeps the account limit in force.
func (l *Limits) marked(ctx context.Context, key string) bool {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StoreTimeout)
	defer cancel()
	ok, err := l.l.Marked(ctx, key)
	if err != nil {
		l.log.Warn("abuse limit mark failed", slog.String("key", key), slog.String("error", err.Error()))
	}
	return ok && err == nil
}
