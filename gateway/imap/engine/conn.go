package engine

import (
	"net"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// State is a connection's state (RFC 9051 section 3).
type State int

const (
	NotAuthenticated State = iota
	Authenticated
	Selected
	Logout
)

func (s State) String() string {
	switch s {
	case NotAuthenticated:
		return "not authenticated"
	case Authenticated:
		return "authenticated"
	case Selected:
		return "selected"
	}
	return "logout"
}

// Any state but Logout, for commands allowed everywhere.
var anyState = []State{NotAuthenticated, Authenticated, Selected}

// Conn is one client connection as the handlers see it.
type Conn struct {
	srv   *Server
	nc    net.Conn
	r     *wire.Reader
	w     *wire.Writer
	state State
	tls   bool

	enabled map[string]bool
	user    string
	session any // the handlers' per-connection state

	okCode, okText string
}

// Writer is where the handlers write untagged responses.
func (c *Conn) Writer() *wire.Writer { return c.w }

// Reader is the command reader, for the messages of an APPEND.
func (c *Conn) Reader() *wire.Reader { return c.r }

// NetConn is the connection under the session (TLS once STARTTLS ran).
func (c *Conn) NetConn() net.Conn { return c.nc }

// State is the connection's state.
func (c *Conn) State() State { return c.state }

// SetState moves the connection to another state: SELECT to Selected,
// CLOSE to Authenticated, UNAUTHENTICATE to NotAuthenticated.
func (c *Conn) SetState(s State) { c.state = s }

// User is the name given at login.
func (c *Conn) User() string { return c.user }

// Session is the handlers' state of this connection.
func (c *Conn) Session() any { return c.session }

// SetSession keeps the handlers' state of this connection.
func (c *Conn) SetSession(v any) { c.session = v }

// Enabled reports whether the client enabled an extension (RFC 5161).
func (c *Conn) Enabled(capability string) bool { return c.enabled[capability] }

// Enable turns an extension on for the rest of the connection: by ENABLE
// (Config.Enable), or by a command that enables it implicitly (CONDSTORE,
// RFC 7162 section 3.1).
func (c *Conn) Enable(capability string) { c.enabled[capability] = true }

// TLS reports whether the connection is encrypted.
func (c *Conn) TLS() bool { return c.tls }

// SetOK gives the tagged OK of the running command a response code and
// text (e.g. "READ-WRITE", "APPENDUID 1 2").
func (c *Conn) SetOK(code, text string) { c.okCode, c.okText = code, text }

// allowed reports whether a command may run in the current state.
func (c *Conn) allowed(states []State) bool {
	for _, s := range states {
		if s == c.state {
			return true
		}
	}
	return false
}
