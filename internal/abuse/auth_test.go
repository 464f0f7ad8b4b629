package abuse

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fail runs one failed authentication and reports whether it was checked
// (not refused) and whether it reached the block.
func fail(t *testing.T, l *Limits, ip, acct string) (checked, blocked bool) {
	t.Helper()
	a, ok := l.BeginAuth(context.Background(), ip, acct)
	if !ok {
		return false, false
	}
	return true, a.Failed(context.Background())
}

func TestAuthFailuresBlockPerIPAndAccount(t *testing.T) {
	l := openLimits(t, Config{AuthFailures: 4, MaxDelay: 5 * time.Millisecond})
	ctx := context.Background()
	for i := range 3 {
		if checked, blocked := fail(t, l, "192.0.2.1", "victim@example.com"); !checked || blocked {
			t.Fatalf("failure %d: checked %v, blocked %v", i+1, checked, blocked)
		}
	}
	if checked, blocked := fail(t, l, "192.0.2.1", "victim@example.com"); !checked || !blocked {
		t.Fatalf("4th failure: checked %v, blocked %v; want the block", checked, blocked)
	}
	if _, ok := l.BeginAuth(ctx, "192.0.2.1", ""); ok {
		t.Error("IP not blocked")
	}
	// The account is blocked from another IP too (distributed guessing),
	// and the case of the address does not matter.
	if _, ok := l.BeginAuth(ctx, "198.51.100.9", "VICTIM@example.com"); ok {
		t.Error("account not blocked from another IP")
	}
	a, ok := l.BeginAuth(ctx, "198.51.100.9", "other@example.com")
	if !ok {
		t.Fatal("an innocent IP and account blocked")
	}
	a.Succeeded(ctx)
}

// TestAuthReservedBeforeCheck: 55 concurrent attempts from one IP, none
// ending before all have begun, get at most the limit checked; and 100
// from 100 IPs against one account likewise.
func TestAuthReservedBeforeCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		ip   func(i int) string
	}{
		{"OneIP", func(int) string { return "192.0.2.1" }},
		{"ManyIPs", func(i int) string { return "198.51.100." + itoa(i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := openLimits(t, Config{AuthFailures: 10})
			ctx := context.Background()
			var checked atomic.Int64
			var begun, wg sync.WaitGroup
			release := make(chan struct{})
			n := 55
			if tc.name == "ManyIPs" {
				n = 100
			}
			for i := range n {
				begun.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, ok := l.BeginAuth(ctx, tc.ip(i), "victim@example.com")
					begun.Done()
					if !ok {
						return
					}
					checked.Add(1)
					<-release // the password check is slow
					a.Failed(ctx)
				}()
			}
			begun.Wait()
			close(release)
			wg.Wait()
			if got := checked.Load(); got != 10 {
				t.Errorf("%d of %d concurrent attempts checked; want the limit, 10", got, n)
			}
		})
	}
}

// TestAuthSuccessIsReleased: successes do not count as failures, so a
// client that logs in often is never blocked.
func TestAuthSuccessIsReleased(t *testing.T) {
	l := openLimits(t, Config{AuthFailures: 3})
	ctx := context.Background()
	for i := range 20 {
		a, ok := l.BeginAuth(ctx, "192.0.2.1", "user@example.com")
		if !ok {
			t.Fatalf("login %d refused", i+1)
		}
		a.Succeeded(ctx)
	}
	for i := range 20 {
		a, ok := l.BeginAuth(ctx, "192.0.2.2", "user@example.com")
		if !ok {
			t.Fatalf("abandoned attempt %d refused", i+1)
		}
		a.Abandon(ctx)
	}
}

// TestAuthKnownNetworkNotLockedOut: after strangers reach the account
// limit, the networks that logged in to the account before still may
// (IPv6: any address of the /64), with their own per-IP limit; others
// may not.
func TestAuthKnownNetworkNotLockedOut(t *testing.T) {
	l := openLimits(t, Config{AuthFailures: 3})
	ctx := context.Background()
	const acct = "owner@example.com"
	for _, ip := range []string{"192.0.2.7", "2001:db8:1:2::10"} {
		a, ok := l.BeginAuth(ctx, ip, acct)
		if !ok {
			t.Fatal("first login refused")
		}
		a.Succeeded(ctx)
	}
	for i := range 3 {
		if checked, _ := fail(t, l, "203.0.113."+itoa(i), acct); !checked {
			t.Fatalf("stranger's failure %d refused", i+1)
		}
	}
	if _, ok := l.BeginAuth(ctx, "203.0.113.99", acct); ok {
		t.Fatal("an unknown IP is not blocked by the account limit")
	}
	for _, ip := range []string{"192.0.2.7", "2001:db8:1:2::beef"} {
		a, ok := l.BeginAuth(ctx, ip, acct)
		if !ok {
			t.Fatalf("known network %s locked out by strangers", ip)
		}
		a.Succeeded(ctx)
	}
	if _, ok := l.BeginAuth(ctx, "2001:db8:1:3::10", acct); ok {
		t.Fatal("another /64 counts as known")
	}
	// A known network still has its own per-IP limit.
	for range 3 {
		fail(t, l, "192.0.2.7", acct)
	}
	if _, ok := l.BeginAuth(ctx, "192.0.2.7", acct); ok {
		t.Fatal("a known network escaped its per-IP limit")
	}
}

func TestClientNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an ip":            "not an ip",
	} {
		if got := ClientNetwork(in); got != want {
			t.Errorf("ClientNetwork(%q) = %q; want %q", in, got, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
