package outbound

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults for the zero values of Config.
const (
	DefaultLifetime       = 5 * 24 * time.Hour // --queue-lifetime
	DefaultDelayNotice    = 4 * time.Hour      // RFC 3464 "delayed" notice
	DefaultRetryBase      = 5 * time.Minute
	DefaultRetryMax       = 4 * time.Hour
	DefaultConcurrency    = 4
	DefaultPerDestination = 2
	DefaultLease          = 15 * time.Second // renewed while a job runs
	DefaultAttemptTimeout = 5 * time.Minute
	DefaultPort           = "25"
	claimWait             = time.Second
)

// Signer signs a message of domain while copying it from r to w (DKIM,
// RFC 6376). internal/domainkeys provides one through SignerFunc.
type Signer interface {
	Sign(ctx context.Context, domain string, w io.Writer, r io.Reader) error
}

// SignerFunc adapts a function to Signer.
type SignerFunc func(ctx context.Context, domain string, w io.Writer, r io.Reader) error

// Sign calls f.
func (f SignerFunc) Sign(ctx context.Context, domain string, w io.Writer, r io.Reader) error {
	return f(ctx, domain, w, r)
}

// Store is the part of the index store the outbound sender uses: the
// outbound queue with its job state, the local domains, the queues its
// DSNs and local hand-backs go to, the legacy checkpoints it migrates, and
// the release of a finished job's object.
type Store interface {
	store.Queue
	HasDomain(ctx context.Context, domain string) (bool, error)
	JobKnown(ctx context.Context, queue, id string) (bool, error)
	JobQueued(ctx context.Context, queue, id string) (bool, error)
	Checkpoint(ctx context.Context, name string) (string, error)
	DeleteCheckpoint(ctx context.Context, name string) error
	CheckpointNames(ctx context.Context, prefix string) ([]string, error)
	ReleaseBlob(ctx context.Context, key string) error
}

var _ Store = (store.Store)(nil)

// Config configures a Sender. Store, Blobs and Log are required.
type Config struct {
	Store    Store
	Blobs    blob.Store
	Hostname string        // EHLO name and the reporting MTA of DSNs
	Resolver *net.Resolver // every MX/A lookup; nil means net.DefaultResolver

	// Routes send the mail of a domain to a fixed HOST:PORT (--transport,
	// like Postfix transport maps); they win over everything below.
	Routes map[string]string
	// Relay, when set, is the smarthost HOST:PORT all other remote mail
	// goes through (--relay-host), with AUTH PLAIN when RelayUser is set
	// (then STARTTLS is required; port 465 means implicit TLS). RelayTLS
	// nil means verifying the relay's certificate against the system roots.
	Relay, RelayUser, RelayPassword string
	RelayTLS                        *tls.Config
	// Transport, when set (and Relay is not), delivers all other remote
	// mail, e.g. NewSES. Without either, delivery is direct: MX lookup,
	// port 25, opportunistic STARTTLS.
	Transport Transport
	Signer    Signer // nil: messages leave unsigned

	Lifetime    time.Duration // give up (DSN) after this long in the queue
	DelayNotice time.Duration // send a "delayed" DSN once after this long (<0: never)
	RetryBase   time.Duration // first retry delay; doubles up to RetryMax
	RetryMax    time.Duration

	Concurrency    int // jobs handled at once
	PerDestination int // SMTP sessions at once per destination host
	Consumer       string
	Lease          time.Duration // a claimed job's lease, renewed while it runs
	AttemptTimeout time.Duration // bounds the deliveries of one attempt (--job-timeout)

	Log     *slog.Logger
	Metrics *metrics.Metrics // nil: not counted

	// Dial opens connections for the SMTP transports (nil: a net.Dialer).
	// Tests use it, or Port, to keep traffic on loopback.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Port is the remote port of direct delivery (default "25").
	Port string
	// TLSConfig is the client side of opportunistic STARTTLS on direct
	// delivery. Nil means one with InsecureSkipVerify: opportunistic TLS
	// (RFC 7435) encrypts against passive eavesdroppers only; an MX
	// certificate is not authenticated without MTA-STS or DANE, so refusing
	// a bad one would only push the message to plaintext.
	TLSConfig *tls.Config

	now func() time.Time // tests
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Lifetime <= 0 {
		c.Lifetime = DefaultLifetime
	}
	if c.DelayNotice == 0 {
		c.DelayNotice = DefaultDelayNotice
	}
	if c.RetryBase <= 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PerDestination <= 0 {
		c.PerDestination = DefaultPerDestination
	}
	if c.Consumer == "" {
		c.Consumer = c.Hostname
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		c.Dial = d.DialContext
	}
	if c.Port == "" {
		c.Port = DefaultPort
	}
	if c.TLSConfig == nil {
		c.TLSConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec // opportunistic, see above
	}
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}
