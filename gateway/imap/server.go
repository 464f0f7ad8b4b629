package imapgw

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/bucketmail/bucketmail/internal/abuse"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/batchconn"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// protocol is the label of this gateway in metrics.
const protocol = "imap"

// DefaultAppendLimit is the APPEND size limit when Config.AppendLimit is 0.
const DefaultAppendLimit = 50 << 20

// maxAppendLimit is imapserver's own bound on APPEND literals.
const maxAppendLimit = 100 << 20

// Config configures a Server.
type Config struct {
	Hostname string
	// TLS enables STARTTLS on plain listeners and is required for
	// implicit-TLS listeners. Nil disables both.
	TLS *tls.Config
	// AllowInsecureAuth permits LOGIN and AUTHENTICATE without TLS. Without
	// it, LOGINDISABLED is advertised until STARTTLS (RFC 9051 section 6.2.3).
	AllowInsecureAuth bool
	Store             Store
	Blobs             blob.Store
	Auth              *auth.Authenticator
	Log               *slog.Logger     // nil discards
	Metrics           *metrics.Metrics // nil: a private set
	AppendLimit       int64            // bytes; 0 means DefaultAppendLimit; at most 100 MiB
	// DefaultQuota is the storage quota of users without their own
	// (--default-quota, bytes); <= 0 means unlimited. APPEND beyond the
	// quota fails with NO [OVERQUOTA] (RFC 9208 section 4.3).
	DefaultQuota int64
	// Limits are the abuse limits (connections per IP, failed logins);
	// nil: none.
	Limits *abuse.Limits
	// Conns caps the connections of each listener and bounds TLS
	// handshakes and the time a command line may take (zero: no caps,
	// abuse.DefaultHandshakeTimeout, no line bound).
	Conns abuse.ConnConfig
	// HeadCacheEntries bounds the head cache (message heads of all
	// mailboxes held); 0 means defaultHeadEntries.
	HeadCacheEntries int
	// TextIndex answers SEARCH BODY and TEXT; nil: the Store if it is a
	// store.TextIndex, else every message searched is read.
	TextIndex store.TextIndex
	// TextSink takes the text of appended messages for an index kept
	// outside the Store (the cloud's); nil: none.
	TextSink store.TextSink
	// NoSearchIndex leaves the text of appended messages out of the
	// index (--search-index=false).
	NoSearchIndex bool
}

// Server is an IMAP gateway. One Server may serve any number of listeners.
type Server struct {
	cfg    Config
	log    *slog.Logger
	met    *metrics.Metrics
	imap   *imapserver.Server
	cache  *bodyCache
	meta   *metaCache
	heads  *headCache
	ctx    context.Context // ends at Close; parent of every storage call
	cancel context.CancelFunc
	live   liveSessions // for the BYE of Shutdown
}

// New makes a Server from cfg.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.AppendLimit <= 0 {
		cfg.AppendLimit = DefaultAppendLimit
	}
	cfg.AppendLimit = min(cfg.AppendLimit, maxAppendLimit)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:    cfg,
		log:    cfg.Log,
		met:    cfg.Metrics,
		cache:  newBodyCache(defaultCacheBytes, defaultCacheEntry),
		meta:   newMetaCache(defaultMetaEntries),
		heads:  newHeadCache(cmp.Or(cfg.HeadCacheEntries, defaultHeadEntries)),
		ctx:    ctx,
		cancel: cancel,
	}
	s.imap = imapserver.New(&imapserver.Options{
		NewSession:   s.newSession,
		Caps:         capabilities(cfg.AppendLimit),
		Logger:       slogPrintf{cfg.Log},
		TLSConfig:    cfg.TLS,
		InsecureAuth: cfg.AllowInsecureAuth,
	})
	return s
}

// capabilities lists what the sessions implement. imapserver adds STARTTLS,
// LOGINDISABLED, AUTH=PLAIN, SASL-IR, LITERAL-, UNSELECT, ENABLE and IDLE by
// connection state. APPENDLIMIT=n in the set makes imapserver announce a
// bare APPENDLIMIT after login; the number is in STATUS (RFC 7889 section 3).
func capabilities(appendLimit int64) imap.CapSet {
	caps := imap.CapSet{imap.Cap(fmt.Sprintf("APPENDLIMIT=%d", appendLimit)): {}}
	for _, c := range []imap.Cap{
		imap.CapIMAP4rev1, imap.CapIMAP4rev2,
		imap.CapNamespace, imap.CapUIDPlus, imap.CapMove, imap.CapESearch,
		imap.CapSearchRes, imap.CapListExtended, imap.CapListStatus,
		imap.CapStatusSize, imap.CapChildren, imap.CapSpecialUse,
		imap.CapCreateSpecialUse, imap.CapLiteralPlus, imap.CapBinary,
		imap.CapUnselect, imap.CapEnable, imap.CapIdle,
	} {
		caps[c] = struct{}{}
	}
	return caps
}

// Serve accepts IMAP connections on ln until Close. With implicitTLS every
// connection starts with a TLS handshake (port 993, RFC 8314); otherwise
// clients may use STARTTLS (port 143).
func (s *Server) Serve(ln net.Listener, implicitTLS bool) error {
	var implicit *tls.Config
	if implicitTLS {
		if s.cfg.TLS == nil {
			return errors.New("imapgw: implicit TLS needs a TLS config")
		}
		implicit = s.cfg.TLS
	}
	// On the socket: connections count from the accept, and lines are
	// bounded whatever the TLS state.
	ln = s.cfg.Conns.Listener(ln, implicit, capRefusal)
	// Responses go out when the session reads again, not line by line;
	// under TLS, so that records are batched and TLS is still seen.
	ln = batchconn.Listener(ln)
	if implicit != nil {
		// imapserver sets no read deadline before its greeting, whose
		// write would wait for the ClientHello forever.
		ln = s.cfg.Conns.TLSListener(ln, implicit)
	}
	// Over TLS, so that an implicit-TLS client can read the refusal.
	ln = s.cfg.Limits.Listener(ln, connRefusal)
	if err := s.imap.Serve(ln); err != nil {
		return fmt.Errorf("imapgw: %w", err)
	}
	return nil
}

// Close stops every listener and closes every connection.
func (s *Server) Close() error {
	s.cancel()
	return s.imap.Close()
}

// slogPrintf adapts a slog.Logger to imapserver.Logger.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, args ...any) {
	l.log.Info("imap server", slog.String("detail", fmt.Sprintf(format, args...)))
}
