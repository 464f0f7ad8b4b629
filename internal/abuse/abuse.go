// Package abuse applies the abuse limits shared by every edge and gateway:
// connections per client IP, failed authentications per IP and per
// account (a growing delay, then a temporary block, auth.go) and messages and
// recipients per hour per authenticated user. The counters live in the
// store (store.Limiter), so that every node sees the same counts.
//
// Limits never make the service unavailable by themselves: a counter that
// cannot be read or written lets the client through, and the error is
// logged.
package abuse

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Windows of the counters.
const (
	ConnWindow = time.Minute      // connections per IP
	AuthWindow = 15 * time.Minute // failed authentications
	SendWindow = time.Hour        // messages and recipients per user
)

// Defaults of Config's zero durations (a zero limit means no limit).
const (
	DefaultMaxDelay     = 8 * time.Second
	DefaultStoreTimeout = 2 * time.Second
)

// Config holds the limits; a zero limit is off.
type Config struct {
	ConnPerIPMinute   int64 // connections per client IP per minute
	AuthFailures      int64 // failed authentications per IP and per account (not for its known networks) per 15 min before a block
	MessagesPerHour   int64 // messages submitted per authenticated user per hour
	RecipientsPerHour int64 // recipients submitted per authenticated user per hour
	// MaxDelay bounds the delay before answering a failed authentication
	// (0: DefaultMaxDelay).
	MaxDelay time.Duration
	// StoreTimeout bounds one counter call (0: DefaultStoreTimeout).
	StoreTimeout time.Duration
}

// Limits applies Config with a store.Limiter. A nil *Limits allows
// everything, so that servers configured without limits need no checks.
type Limits struct {
	l   store.Limiter
	cfg Config
	log *slog.Logger
}

// New returns the limits kept in l, or nil (no limits) when l is nil. log
// may be nil.
func New(l store.Limiter, cfg Config, log *slog.Logger) *Limits {
	if l == nil {
		return nil
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limits{l: l, cfg: cfg, log: log}
}

// Keys of the counters. Values are escaped by store.LimitKey; accounts are
// compared lower-case, like addresses everywhere.
func connKey(ip string) string       { return store.LimitKey("conn", "ip", ip) }
func sendMsgKey(user string) string  { return store.LimitKey("send", "msg", strings.ToLower(user)) }
func sendRcptKey(user string) string { return store.LimitKey("send", "rcpt", strings.ToLower(user)) }

func (l *Limits) hit(ctx context.Context, key string, n int64, w time.Duration) (int64, bool) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StoreTimeout)
	defer cancel()
	c, err := l.l.Hit(ctx, key, n, w)
	if err != nil {
		l.log.Warn("abuse limit counter failed; allowing", slog.String("key", key), slog.String("error", err.Error()))
		return 0, false
	}
	return c, true
}

func (l *Limits) count(ctx context.Context, key string, w time.Duration) (int64, bool) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StoreTimeout)
	defer cancel()
	c, err := l.l.Count(ctx, key, w)
	if err != nil {
		l.log.Warn("abuse limit counter failed; allowing", slog.String("key", key), slog.String("error", err.Error()))
		return 0, false
	}
	return c, true
}

// Connect counts a new connection from ip and reports whether it is within
// the per-minute limit.
func (l *Limits) Connect(ctx context.Context, ip string) bool {
	if l == nil || l.cfg.ConnPerIPMinute <= 0 {
		return true
	}
	c, ok := l.hit(ctx, connKey(ip), 1, ConnWindow)
	if ok && c > l.cfg.ConnPerIPMinute {
		l.log.Warn("connection rate limit", slog.String("client_ip", ip), slog.Int64("count", c))
		return false
	}
	return true
}

// SendAllowed reports whether user may start another message with
// addRcpts more recipients (0 at MAIL) in the current hour: msgOK for the
// message limit, rcptOK for the recipient limit. Only Sent counts.
func (l *Limits) SendAllowed(ctx context.Context, user string, addRcpts int64) (msgOK, rcptOK bool) {
	msgOK, rcptOK = true, true
	if l == nil {
		return msgOK, rcptOK
	}
	if l.cfg.MessagesPerHour > 0 {
		if c, ok := l.count(ctx, sendMsgKey(user), SendWindow); ok && c >= l.cfg.MessagesPerHour {
			msgOK = false
		}
	}
	if l.cfg.RecipientsPerHour > 0 && addRcpts > 0 {
		if c, ok := l.count(ctx, sendRcptKey(user), SendWindow); ok && c+addRcpts > l.cfg.RecipientsPerHour {
			rcptOK = false
		}
	}
	return msgOK, rcptOK
}

// Sent counts one accepted message of user with rcpts recipients.
func (l *Limits) Sent(ctx context.Context, user string, rcpts int64) {
	if l == nil {
		return
	}
	if l.cfg.MessagesPerHour > 0 {
		l.hit(ctx, sendMsgKey(user), 1, SendWindow)
	}
	if l.cfg.RecipientsPerHour > 0 {
		l.hit(ctx, sendRcptKey(user), rcpts, SendWindow)
	}
}
