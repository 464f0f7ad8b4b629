package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/internal/quota"
	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/snapshot"
)

//go:generate go test -run ^TestREADMEFlagTable$ -args -write-readme

// envPrefix starts the environment variable of every flag.
const envPrefix = "BUCKETMAIL_"

// Defaults that are not plain literals.
const (
	defaultMaxMessageSize  = 50 << 20 // 50 MiB
	defaultMaxRecipients   = 100      // RFC 5321 section 4.5.3.1.8: at least 100
	defaultWorkerLease     = 15 * time.Second
	defaultJobTimeout      = 5 * time.Minute
	defaultShutdownTimeout = 30 * time.Second
	defaultAuthCacheTTL    = 5 * time.Minute
	// defaultMetricsAddr is loopback: /metrics and /debug/pprof have no
	// authentication. Not 9090, which a Prometheus on the same host takes.
	defaultMetricsAddr = "127.0.0.1:8081"
)

// storageConfig says where the state lives; every command needs it.
type storageConfig struct {
	DataDir string
	Store   string // sqlite://PATH; "" means sqlite://<data-dir>/bucketmail.db
	Blobs   string // file://DIR or s3://BUCKET[/PREFIX]?...; "" means file://<data-dir>/blobs
	// CreateBucket creates the s3:// bucket when it is missing. The S3
	// credentials are deliberately not flags: they come from the
	// environment only (see openBlobs), so they never show in ps.
	CreateBucket bool
}

// config is the configuration of the server commands.
type config struct {
	storageConfig

	Hostname string
	HTTPAddr string
	// MetricsAddr serves /metrics and /debug/pprof; it defaults to
	// loopback because neither has authentication.
	MetricsAddr string

	SMTPAddr, SubmissionAddr, SubmissionsAddr string
	IMAPAddr, IMAPSAddr, POP3Addr, POP3SAddr  string
	ManageSieveAddr                           string
	// IMAP timeouts (engine.Timeouts): before login, between commands
	// once authenticated, during IDLE; the last two at least 30 minutes.
	IMAPPreLoginTimeout, IMAPIdleTimeout, IMAPIdleCommandTimeout time.Duration
	// IMAPCompress offers COMPRESS=DEFLATE (RFC 4978) after login.
	IMAPCompress bool

	TLSCert, TLSKey string
	// ACME (RFC 8555) certificates for these names, cached in the blob
	// store; empty: off. See tlsconf.ACMEOptions.
	ACMEDomains, ACMEEmail, ACMEDirectoryURL string
	// ShutdownTimeout bounds the graceful shutdown after SIGTERM.
	ShutdownTimeout time.Duration
	// ReadinessGate closes the protocol listeners while the stores do not
	// answer (gate.go).
	ReadinessGate  bool
	PProf          bool
	MaxMessageSize byteSize
	MaxRecipients  int
	// DefaultQuota is the storage quota of users without their own, in
	// bytes; <= 0: unlimited (see internal/quota).
	DefaultQuota      quotaSize
	AllowInsecureAuth bool
	// AuthCacheTTL is how long a verified password is remembered
	// (auth.Options.CacheTTL); 0: off.
	AuthCacheTTL time.Duration
	Abuse        abuseConfig // abuse limits and PROXY protocol (edge, gateway)

	Harvest harvestConfig // unknown recipients (edge)

	WorkerConcurrency int
	WorkerLease       time.Duration
	JobTimeout        time.Duration
	ForwardJunk       bool // forward mail filed to Junk or failing SPF/DMARC too
	SearchIndex       bool // index the text of delivered and appended mail (SEARCH BODY/TEXT)
	Drain             bool // worker command only: exit 0 once the queues are empty

	ReconcileInterval time.Duration // 0: no reconciler nor collector
	ReconcileGrace    time.Duration
	GCDelay           time.Duration
	SnapshotInterval  time.Duration // 0: no index snapshots

	// DNSResolver is HOST:PORT of the DNS server every lookup goes to
	// (SPF, DKIM, DMARC, MX); "" is the system resolver. See resolver.New.
	DNSResolver string
	DNSCacheTTL time.Duration // how long SPF/DKIM/DMARC answers are kept; 0: not at all
	DMARCReject string        // junk or reject: what a DMARC p=reject failure gets

	LocalSpoof string // reject or junk: what port-25 mail claiming a local domain without SPF pass gets at the edge

	Outbound outboundConfig // delivery to remote domains (worker role)

	LogFormat string // json, text or "" (json unless stderr is a terminal)
	LogLevel  string
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyEnv sets each flag of fs whose environment variable is set. It runs
// before fs.Parse, so the command line wins.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := lookup(envName(f.Name))
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
		}
	})
	return errors.Join(errs...)
}

func (s *storageConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&s.DataDir, "data-dir", "./data", "directory for local state (database, blobs, self-signed certificate)")
	fs.StringVar(&s.Store, "store", "", "index, queue and directory `URL` (default sqlite://<data-dir>/bucketmail.db)")
	fs.StringVar(&s.Blobs, "blobs", "", "message object store `URL`: file://DIR or s3://BUCKET[/PREFIX]?endpoint=HOST[:PORT]&region=R&secure=BOOL&path_style=BOOL; S3 keys from env BUCKETMAIL_S3_ACCESS_KEY/BUCKETMAIL_S3_SECRET_KEY (default file://<data-dir>/blobs)")
	fs.BoolVar(&s.CreateBucket, "create-bucket", false, "create the s3:// bucket of --blobs if it does not exist")
}

// resolve fills in the defaults derived from the data directory.
func (s *storageConfig) resolve() {
	if s.Store == "" {
		s.Store = "sqlite://" + filepath.Join(s.DataDir, "bucketmail.db")
	}
	if s.Blobs == "" {
		s.Blobs = "file://" + filepath.Join(s.DataDir, "blobs")
	}
}

// roles says which roles a server command runs.
type roles struct{ edge, worker, gateway bool }

func (r roles) String() string {
	var s []string
	if r.edge {
		s = append(s, "edge")
	}
	if r.worker {
		s = append(s, "worker")
	}
	if r.gateway {
		s = append(s, "gateway")
	}
	return strings.Join(s, ",")
}

// parseRoles parses a comma-separated list of roles.
func parseRoles(v string) (roles, error) {
	var r roles
	for _, name := range strings.Split(v, ",") {
		switch strings.TrimSpace(name) {
		case "edge":
			r.edge = true
		case "worker":
			r.worker = true
		case "gateway":
			r.gateway = true
		case "":
		default:
			return r, fmt.Errorf("unknown role %q (want edge, worker, gateway)", name)
		}
	}
	if r == (roles{}) {
		return r, errors.New("no role given")
	}
	return r, nil
}

// register defines the flags the roles in r need on fs.
func (c *config) register(fs *flag.FlagSet, r roles) {
	c.storageConfig.register(fs)
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	fs.StringVar(&c.Hostname, "hostname", host, "host name announced in greetings and Received lines")
	fs.StringVar(&c.HTTPAddr, "http-addr", ":8080", "public `address` for /healthz, /readyz, autoconfig, autodiscover, the MTA-STS policy (only for Host: mta-sts.DOMAIN of a local DOMAIN) and ACME HTTP-01; never /metrics (empty: off)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", defaultMetricsAddr, "private `address` for /metrics, /debug/pprof/ (with --pprof), /healthz and /readyz; no authentication, so loopback by default: keep it off public interfaces; must differ from --http-addr (empty: off)")
	fs.StringVar(&c.LogFormat, "log-format", "", "log format, json or text (default json, or text when stderr is a terminal)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&c.PProf, "pprof", false, "serve the Go runtime profiles (CPU, heap, goroutines, trace) under /debug/pprof/ on --metrics-addr")
	fs.BoolVar(&c.ReadinessGate, "readiness-gate", false, "stop listening on the mail protocol ports while the stores do not answer (the /readyz check, every 5s, two failures in a row), and listen again once they do, so that a load balancer's TCP health check (a Linode NodeBalancer's) takes this node out")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "after SIGTERM (listeners closed at once, idle SMTP answered 421, IMAP sessions told * BYE, POP3 -ERR [SYS/TEMP]), how long open SMTP transactions and worker jobs get to finish before the process exits with status 0")
	if r.edge {
		fs.StringVar(&c.SMTPAddr, "smtp-addr", ":25", "SMTP (MX) listen `address` (empty: off)")
		fs.StringVar(&c.SubmissionAddr, "submission-addr", ":587", "submission (STARTTLS) listen `address` (empty: off)")
		fs.StringVar(&c.SubmissionsAddr, "submissions-addr", ":465", "submission over implicit TLS listen `address` (empty: off)")
		fs.IntVar(&c.MaxRecipients, "max-recipients", defaultMaxRecipients, "most recipients per message")
	}
	if r.gateway {
		fs.StringVar(&c.IMAPAddr, "imap-addr", ":143", "IMAP (STARTTLS) listen `address` (empty: off)")
		fs.StringVar(&c.IMAPSAddr, "imaps-addr", ":993", "IMAP over implicit TLS listen `address` (empty: off)")
		fs.StringVar(&c.POP3Addr, "pop3-addr", ":110", "POP3 (STLS) listen `address` (empty: off)")
		fs.StringVar(&c.POP3SAddr, "pop3s-addr", ":995", "POP3 over implicit TLS listen `address` (empty: off)")
		fs.StringVar(&c.ManageSieveAddr, "managesieve-addr", ":4190", "ManageSieve (RFC 5804, STARTTLS) listen `address` for filter editors (empty: off)")
		fs.DurationVar(&c.IMAPPreLoginTimeout, "imap-prelogin-timeout", engine.DefaultPreLoginTimeout, "how long an IMAP connection that has not logged in may wait between commands before it is told * BYE and closed")
		fs.DurationVar(&c.IMAPIdleTimeout, "imap-idle-timeout", engine.MinAuthenticatedTimeout, "how long a logged-in IMAP session may wait between commands before it is told * BYE and closed (autologout); at least 30m (RFC 9051 section 5.4)")
		fs.BoolVar(&c.IMAPCompress, "imap-compress", true, "offer IMAP COMPRESS=DEFLATE (RFC 4978) after login: less traffic for about 43 KiB more memory per connection that turns it on")
		fs.DurationVar(&c.IMAPIdleCommandTimeout, "imap-idle-command-timeout", engine.MinAuthenticatedTimeout, "how long an IMAP IDLE may last without the client's DONE before the session is told * BYE and closed; at least 30m (clients renew IDLE every 29 minutes, RFC 2177)")
	}
	if r.edge || r.gateway {
		c.MaxMessageSize = defaultMaxMessageSize
		fs.Var(&c.MaxMessageSize, "max-message-size", "largest message accepted by SMTP (SIZE) or IMAP APPEND (APPENDLIMIT), in bytes (suffixes K, M, G, KiB, MiB, GiB) (default 50MiB)")
		fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM), with --tls-key; TLS 1.2 minimum, ECDHE with AEAD suites only, X25519/P-256 (default: a self-signed certificate for --hostname, made once in the data dir)")
		fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key `file` (PEM) of --tls-cert; both files are re-read without restart when they change (checked every 3s) and on SIGHUP, and a pair that does not load is logged and the current one kept")
		fs.StringVar(&c.ACMEDomains, "acme-domains", "", "comma-separated host `names` to get certificates for from an ACME CA (Let's Encrypt by default); account and certificates are cached in the blob store under acme/, shared by every node. Validation: HTTP-01 on the HTTP listener (port 80 must reach --http-addr) or TLS-ALPN-01 (port 443 must reach a TLS listener, e.g. 465 or 993). Other names get the --tls-cert or self-signed certificate (empty: ACME off)")
		fs.StringVar(&c.ACMEEmail, "acme-email", "", "contact `address` of the ACME account")
		fs.StringVar(&c.ACMEDirectoryURL, "acme-directory-url", "", "ACME directory `URL`, e.g. https://acme-staging-v02.api.letsencrypt.org/directory to test (default: Let's Encrypt production)")
		fs.BoolVar(&c.AllowInsecureAuth, "allow-insecure-auth", false, "allow authentication without TLS (testing only)")
		fs.DurationVar(&c.AuthCacheTTL, "auth-cache-ttl", defaultAuthCacheTTL, "how long a successful password check (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, POP3) is remembered in memory, so that the same user with the same password logs in again without the argon2id hash (19 MiB, tens of ms); failures are never remembered, a password change takes effect at once; at most 10,000 entries per process; see docs/security.md (0: off)")
		c.Abuse.register(fs)
	}
	if r.edge {
		c.Harvest.register(fs)
		fs.StringVar(&c.LocalSpoof, "local-spoof", localSpoofReject, "what a port-25 MAIL FROM in a local domain gets when the client IP does not pass SPF for it: reject (550 5.7.1 at MAIL) or junk (accepted; the worker files it to Junk); our own users submit on 587/465. Either way the worker files port-25 mail whose From: is in a local domain without an aligned SPF or DKIM pass to Junk; see docs/security.md")
	}
	if r.edge || r.worker {
		fs.StringVar(&c.DNSResolver, "dns-resolver", "", "DNS server `HOST:PORT` for every lookup (SPF, DKIM, DMARC, MX) (default: the system resolver)")
		fs.DurationVar(&c.DNSCacheTTL, "dns-cache-ttl", time.Minute, "how long the answers of SPF, DKIM and DMARC lookups (records, and no such record) are kept in memory, at most; failures are never kept, at most 10,000 answers per process; record TTLs shorter than this are not seen (the Go resolver does not give them) (0: off)")
		fs.StringVar(&c.DMARCReject, "dmarc-reject", dmarcJunk, "what port-25 mail failing DMARC under p=reject gets: junk (filed to Junk by the worker) or reject (550 at the edge after DATA); p=quarantine failures always go to Junk")
	}
	if r.edge || r.gateway || r.worker {
		fs.Var(&c.DefaultQuota, "default-quota", "storage quota of users without their own (bucketmail user quota), suffixes as --max-message-size; over it RCPT gets 452 4.2.2, delivery is retried then bounced with a 5.2.2 DSN (submitted mail: bounced at once), IMAP APPEND gets NO [OVERQUOTA]; give every node the same value (0 or unlimited: none) (default unlimited)")
	}
	if r.gateway || r.worker {
		fs.BoolVar(&c.SearchIndex, "search-index", true, "index the text of delivered and appended messages for IMAP SEARCH BODY and TEXT (the first 16 KiB of header and 64 KiB of body text of each; in SQLite, or as segments in the bucket with --store redis); searches read the messages the index lacks; see docs/architecture.md")
	}
	if r.worker {
		fs.IntVar(&c.WorkerConcurrency, "worker-concurrency", 16, "jobs a worker delivers at once")
		fs.DurationVar(&c.WorkerLease, "worker-lease", defaultWorkerLease, "lease of a claimed job: its worker renews it every third while the job runs (inbound and outbound), so a killed worker's jobs are taken by another after about this long")
		fs.DurationVar(&c.JobTimeout, "job-timeout", defaultJobTimeout, "budget of one run of a job; a delivery over it is stopped (its lease is no longer renewed), retried once later and then dead-lettered; an outbound attempt over it counts as a temporary failure")
		fs.BoolVar(&c.ForwardJunk, "forward-junk", false, "forward to outside alias targets also mail filed to Junk or failing SPF or DMARC; without it such mail stays in the alias's local mailboxes and is not passed on; see docs/operations.md")
		if !r.edge && !r.gateway {
			// Only the worker command: a process serving listeners has
			// no reason to stop when the queue is empty.
			fs.BoolVar(&c.Drain, "drain", false, "exit 0 once the inbound and outbound queues have nothing pending, in flight or delayed (scale-to-zero and one-shot runs)")
		}
		fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", reconcile.DefaultInterval, "time between reconciler passes, which re-enqueue message objects whose job is unknown and delete orphaned objects (0: off)")
		fs.DurationVar(&c.ReconcileGrace, "reconcile-grace", reconcile.DefaultGrace, "age at which the reconciler re-enqueues a message object whose job is unknown")
		fs.DurationVar(&c.GCDelay, "gc-delay", reconcile.DefaultGCDelay, "how long a message object stays after its last mailbox entry was expunged")
		fs.DurationVar(&c.SnapshotInterval, "snapshot-interval", snapshot.DefaultInterval, "time between index snapshots (idx/... in the blob store) of the users that changed; a user with 1,000 messages or more waits one interval per thousand (at most 30 min) (0: off)")
		c.Outbound.register(fs)
	}
}

// check validates c after parsing.
func (c *config) check() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if c.WorkerConcurrency < 0 || c.MaxRecipients < 0 || c.WorkerLease < 0 || c.JobTimeout < 0 || c.MaxMessageSize < 0 ||
		c.ReconcileInterval < 0 || c.ReconcileGrace < 0 || c.GCDelay < 0 || c.SnapshotInterval < 0 ||
		c.ShutdownTimeout < 0 || c.AuthCacheTTL < 0 || c.IMAPPreLoginTimeout < 0 {
		return usagef("negative limits are not allowed")
	}
	if (c.IMAPIdleTimeout != 0 && c.IMAPIdleTimeout < engine.MinAuthenticatedTimeout) ||
		(c.IMAPIdleCommandTimeout != 0 && c.IMAPIdleCommandTimeout < engine.MinAuthenticatedTimeout) {
		return usagef("--imap-idle-timeout and --imap-idle-command-timeout must be at least %v (RFC 9051 section 5.4)", engine.MinAuthenticatedTimeout)
	}
	switch c.DMARCReject {
	case "", dmarcJunk, dmarcReject:
	default:
		return usagef("--dmarc-reject %q: want junk or reject", c.DMARCReject)
	}
	switch c.LocalSpoof {
	case "", localSpoofReject, localSpoofJunk:
	default:
		return usagef("--local-spoof %q: want reject or junk", c.LocalSpoof)
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		return usagef("--log-format %q: want json or text", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return usageError{err.Error()}
	}
	if c.Hostname == "" {
		return usagef("--hostname must not be empty")
	}
	// Two ":0" are two random ports, not one.
	_, port, _ := net.SplitHostPort(c.MetricsAddr)
	if c.MetricsAddr != "" && c.MetricsAddr == c.HTTPAddr && port != "0" {
		return usagef("--metrics-addr must differ from --http-addr: /metrics stays off the public listener")
	}
	if err := c.Outbound.check(); err != nil {
		return err
	}
	if err := c.Abuse.check(); err != nil {
		return err
	}
	if err := c.Harvest.check(); err != nil {
		return err
	}
	c.resolve()
	return nil
}

// byteSize is a flag value in bytes that accepts K/M/G suffixes.
// quotaSize is a --default-quota: quota.ParseSize's syntax, "unlimited"
// stored as 0 (no default).
type quotaSize int64

func (q *quotaSize) String() string { return strconv.FormatInt(int64(*q), 10) }

func (q *quotaSize) Set(s string) error {
	n, err := quota.ParseSize(s)
	if err != nil {
		return err
	}
	*q = quotaSize(max(n, 0))
	return nil
}

type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	v := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("invalid size %q", s)
	}
	*b = byteSize(n * mult)
	return nil
}
