package auth

import (
	"context"
	"log/slog"
)

// Messages of the authentication log lines. Every protocol logs its
// failures and refusals with these, at WARN, with the attributes of
// LogAttempt in this order, so that one fail2ban filter
// (infra/fail2ban/filter.d/bucketmail.conf) reads them all.
const (
	MsgFailed  = "authentication failed"
	MsgBlocked = "authentication blocked"
)

// LogAttempt logs a failed (MsgFailed) or refused (MsgBlocked)
// authentication. protocol is "smtp", "imap" or "pop3"; username is the
// normalised name (NormalizeName). log must not carry these attributes
// already (a key twice in a line is ambiguous to readers).
func LogAttempt(log *slog.Logger, msg, protocol, clientIP, username string) {
	log.LogAttrs(context.Background(), slog.LevelWarn, msg,
		slog.String("protocol", protocol),
		slog.String("client_ip", clientIP),
		slog.String("username", username))
}
