package edge

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults applied to zero fields of Config.
const (
	DefaultMaxMessageSize = 50 << 20 // bytes of message data, Received: line excluded
	// DefaultMaxRecipients is the minimum RFC 5321 section 4.5.3.1.8 requires.
	DefaultMaxRecipients = 100
)

// Timeouts of a connection. RFC 5321 section 4.5.3.2 asks for at least
// 5 minutes per command and 10 minutes for the whole DATA block.
const (
	readTimeout  = 5 * time.Minute
	writeTimeout = 5 * time.Minute
	dataTimeout  = 10 * time.Minute
	// storeTimeout bounds one directory or queue call.
	storeTimeout = 30 * time.Second
)

// Config is what the edge needs. Dir, Queue and Blobs are required; Auth is
// required for the submission modes.
type Config struct {
	Hostname          string // announced in the greeting and in Received: lines
	MaxMessageSize    int64  // 0 means DefaultMaxMessageSize
	MaxRecipients     int    // 0 means DefaultMaxRecipients
	TLS               *tls.Config
	AllowInsecureAuth bool // allow AUTH without TLS (tests, trusted networks)
	Dir               store.Directory
	Queue             intake.Queue
	Blobs             blob.Store
	Auth              *auth.Authenticator
	// DMARCReject, when not nil, checks every message received on port 25
	// after DATA and refuses with 550 5.7.1 one that fails DMARC under
	// p=reject (--dmarc-reject=reject); nil leaves the checks to the worker.
	DMARCReject *authcheck.Checker
	// Limits are the abuse limits (connections per IP, failed AUTH,
	// messages and recipients per hour); nil: none.
	Limits *abuse.Limits
	// Conns caps the connections of each listener and bounds TLS
	// handshakes and the time a command line may take (zero: no caps,
	// abuse.DefaultHandshakeTimeout, no line bound).
	Conns abuse.ConnConfig
	// UnknownRcpts bounds the unknown local recipients (550 5.1.1) of a
	// session, and of a client IP (or authenticated user) across sessions
	// in abuse.RcptWindow: past it the edge answers 421 4.7.0 and closes
	// the connection, and MAIL of a later session gets the same. Past a
	// quarter of it each unknown recipient of an unauthenticated client is
	// answered after UnknownRcptDelay times its rank (at most 8 s). 0: off
	// (--limit-unknown-rcpts).
	UnknownRcpts     int
	UnknownRcptDelay time.Duration // 0 means DefaultUnknownRcptDelay
	// LocalSenders, when not nil, refuses on port 25 a MAIL FROM in a
	// local domain unless the client IP passes SPF for it (550 5.7.1,
	// localsender.go; --local-spoof=reject). nil accepts it: the worker
	// files what is not authenticated to Junk.
	LocalSenders *authcheck.Checker
	// Mailboxes, when not nil, lets RCPT refuse a local recipient whose
	// mailbox is over its storage quota (452 4.2.2); DefaultQuota is the
	// quota of users without their own (--default-quota; <= 0: unlimited).
	Mailboxes    store.Mailboxes
	DefaultQuota int64
	Log          *slog.Logger     // nil discards
	Metrics      *metrics.Metrics // nil means a private, unexported set

	// SRS, when not nil, verifies recipients in SRS form in a local
	// domain (bounces of forwarded mail, see srs.go); nil treats them as
	// any other address.
	SRS SRSReverser
}

// Mode says what a listener is for.
type Mode int

const (
	// MX receives mail for local domains from anyone (port 25), without AUTH.
	MX Mode = iota
	// Submission receives mail from authenticated users (port 587); AUTH is
	// offered after STARTTLS (RFC 6409).
	Submission
	// SubmissionTLS is Submission over implicit TLS (port 465, RFC 8314).
	SubmissionTLS
)

// String returns the listener name used in logs and metrics.
func (m Mode) String() string {
	if m == MX {
		return "smtp"
	}
	return "submission"
}

func (c Config) withDefaults() Config {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = DefaultMaxRecipients
	}
	if c.UnknownRcptDelay <= 0 {
		c.UnknownRcptDelay = DefaultUnknownRcptDelay
	}
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New()
	}
	return c
}
