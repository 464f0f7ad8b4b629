package abuse

import (
	"context"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// RcptWindow is the window of the unknown-recipient counters.
const RcptWindow = 15 * time.Minute

// unknownRcptKey counts the unknown recipients of a client IP, or of an
// authenticated user (who may move between IPs and share one with others).
func unknownRcptKey(ip, user string) string {
	if user != "" {
		return store.LimitKey("rcpt-unknown", "user", strings.ToLower(user))
	}
	return store.LimitKey("rcpt-unknown", "ip", ip)
}

// UnknownRecipient counts one recipient refused as unknown (550 5.1.1) for
// user, or for ip when user is "", and returns the count of the window.
// Address harvesting shows as many of them. A nil *Limits or a failing
// counter returns 0: the session's own count still applies.
func (l *Limits) UnknownRecipient(ctx context.Context, ip, user string) int64 {
	if l == nil {
		return 0
	}
	n, _ := l.hit(ctx, unknownRcptKey(ip, user), 1, RcptWindow)
	return n
}

// UnknownRecipients returns the count of the window without adding to it.
func (l *Limits) UnknownRecipients(ctx context.Context, ip, user string) int64 {
	if l == nil {
		return 0
	}
	n, _ := l.count(ctx, unknownRcptKey(ip, user), RcptWindow)
	return n
}
