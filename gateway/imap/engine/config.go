package engine

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// MinAuthenticatedTimeout is RFC 9051 section 5.4's floor for the
// autologout timer of an authenticated session: "at least 30 minutes".
// It applies to IDLE too, which clients renew every 29 minutes (RFC 2177).
const MinAuthenticatedTimeout = 30 * time.Minute

// DefaultPreLoginTimeout bounds a connection that has not logged in.
const DefaultPreLoginTimeout = time.Minute

// Timeouts bound the wait for a client's next command. Each is a read
// deadline set before a command is read; it also bounds the command's own
// literals.
type Timeouts struct {
	// PreLogin: not authenticated (default DefaultPreLoginTimeout).
	PreLogin time.Duration
	// Authenticated: authenticated or selected, between commands. Less
	// than MinAuthenticatedTimeout (zero included) means that minimum.
	Authenticated time.Duration
	// Idle: during IDLE, until DONE. Less than MinAuthenticatedTimeout
	// means that minimum.
	Idle time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.PreLogin <= 0 {
		t.PreLogin = DefaultPreLoginTimeout
	}
	t.Authenticated = max(t.Authenticated, MinAuthenticatedTimeout)
	t.Idle = max(t.Idle, MinAuthenticatedTimeout)
	return t
}

// Handler runs one command. It writes untagged responses with c.Writer and
// returns nil for "tag OK" (with c.SetOK's code and text, if set), an
// *imap.Error for NO or BAD with its code, or any other error, which is
// logged and answered NO [SERVERBUG].
type Handler func(ctx context.Context, c *Conn, cmd *wire.Command) error

// Command is a command the engine dispatches, and the states it is
// allowed in.
type Command struct {
	States  []State
	Handler Handler
}

// Config is what a Server needs. Only Login is required.
type Config struct {
	// Hostname goes into the greeting.
	Hostname string
	// Capabilities returns what the connection advertises in its state
	// (for CAPABILITY and the greeting). Nil: IMAP4rev2 IMAP4rev1 and the
	// commands the engine runs itself.
	Capabilities func(c *Conn) []string
	// Login checks a user name and password; an *imap.Error is sent as
	// it is, any other error is NO [AUTHENTICATIONFAILED].
	Login func(ctx context.Context, c *Conn, username, password string) error
	// TLS enables STARTTLS; nil disables it.
	TLS *tls.Config
	// Commands are the commands beyond the ones the engine runs itself
	// (CAPABILITY, NOOP, LOGOUT, LOGIN, AUTHENTICATE PLAIN, STARTTLS, ID,
	// ENABLE, IDLE, COMPRESS), by name ("FETCH" serves FETCH and UID FETCH).
	Commands map[string]Command
	// Poll reports changes to the selected mailbox (NOOP, and after each
	// command in the selected state); nil does nothing. allowExpunge is
	// false after FETCH, STORE, SEARCH, SORT and THREAD without UID, where
	// an EXPUNGE would shift the sequence numbers just sent (RFC 9051
	// section 7.5.1).
	Poll func(ctx context.Context, c *Conn, allowExpunge bool) error
	// Idle sends changes until stop is closed (IDLE, RFC 2177); nil sends
	// nothing.
	Idle func(ctx context.Context, c *Conn, stop <-chan struct{}) error
	// CheckAppend is asked about each APPEND message before the client
	// sends it (quota, APPENDLIMIT); its *imap.Error is the answer.
	CheckAppend func(c *Conn, info wire.LiteralInfo) error
	// Enable turns on an extension the engine does not know itself
	// (ENABLE, RFC 5161) with Conn.Enable, and returns what it turned on,
	// spelt as advertised; nothing if it was on already or is unknown.
	// Nil: ENABLE turns on only what the engine knows.
	Enable func(c *Conn, capability string) []string
	// Compress serves COMPRESS=DEFLATE (RFC 4978) after login and
	// advertises it (added to what Capabilities returns).
	Compress bool
	// ID is this server's answer to ID (RFC 2971), e.g. name and version.
	ID       []wire.IDParam
	Timeouts Timeouts
	Limits   wire.Limits
	Log      *slog.Logger // nil discards
}
