package imapgw

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
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

// maxAppendLimit bounds AppendLimit, and is the reader's cap on APPEND
// messages.
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
	// Timeouts bound the wait for a client's command: before login,
	// once authenticated, during IDLE (the last two at least RFC 9051's
	// 30 minutes; zero: the engine's defaults).
	Timeouts engine.Timeouts
	// Version is the server's version in the answer to ID (RFC 2971).
	Version string
	// Compress offers COMPRESS=DEFLATE (RFC 4978) after login.
	Compress bool
}

// Server is an IMAP gateway. One Server may serve any number of listeners.
type Server struct {
	cfg    Config
	log    *slog.Logger
	met    *metrics.Metrics
	eng    *engine.Server
	cache  *bodyCache
	meta   *metaCache
	heads  *headCache
	sorts  *sortCache
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
		sorts:  newSortCache(defaultSortCacheBytes),
		ctx:    ctx,
		cancel: cancel,
	}
	s.eng = engine.New(engine.Config{
		Hostname:     cfg.Hostname,
		Capabilities: s.capabilities,
		Login:        s.login,
		TLS:          cfg.TLS,
		Commands:     s.commands(),
		Poll:         s.poll,
		Idle:         s.idle,
		Enable:       s.enable,
		CheckAppend:  s.checkAppend,
		ID:           serverID(cfg.Version),
		Timeouts:     cfg.Timeouts,
		Compress:     cfg.Compress,
		// Messages over AppendLimit are refused by CheckAppend, before
		// their data; the reader's own cap ends the session.
		Limits: wire.Limits{Message: maxAppendLimit},
		Log:    cfg.Log,
	})
	return s
}

// capabilities lists what the connection is offered in its state: STARTTLS
// and LOGINDISABLED before TLS, AUTH=PLAIN where login is allowed, and
// once authenticated what the sessions implement. APPENDLIMIT's number is
// in STATUS too (RFC 7889 section 3).
func (s *Server) capabilities(c *engine.Conn) []string {
	caps := []string{"IMAP4rev1", "IMAP4rev2", "LITERAL+", "ID", "ENABLE", "IDLE", "SASL-IR"}
	if c.State() == engine.NotAuthenticated {
		secure := secure(c)
		if s.cfg.TLS != nil && !secure {
			caps = append(caps, "STARTTLS")
		}
		if secure || s.cfg.AllowInsecureAuth {
			caps = append(caps, "AUTH=PLAIN")
		} else {
			caps = append(caps, "LOGINDISABLED")
		}
		return caps
	}
	return append(caps, "NAMESPACE", "UIDPLUS", "MULTIAPPEND", "MOVE", "ESEARCH", "SEARCHRES",
		"LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE", "CHILDREN", "SPECIAL-USE",
		"CREATE-SPECIAL-USE", "BINARY", "UNSELECT", "UNAUTHENTICATE", "CONDSTORE", "QRESYNC",
		"SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "ESORT",
		"CONTEXT=SEARCH", "CONTEXT=SORT",
		"OBJECTID", "PREVIEW", "QUOTA", "QUOTA=RES-STORAGE", "WITHIN", "SAVEDATE",
		fmt.Sprintf("APPENDLIMIT=%d", s.cfg.AppendLimit))
}

// serverID is the answer to ID (RFC 2971 section 3.3).
func serverID(version string) []wire.IDParam {
	name := "bucketmail"
	version = cmp.Or(version, "dev")
	return []wire.IDParam{{Key: "name", Value: &name}, {Key: "version", Value: &version}}
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
		// The handshake has a deadline of its own: the greeting's write
		// would otherwise wait for the ClientHello forever.
		ln = s.cfg.Conns.TLSListener(ln, implicit)
	}
	// Over TLS, so that an implicit-TLS client can read the refusal.
	ln = s.cfg.Limits.Listener(ln, connRefusal)
	if !s.live.addListener(ln) {
		ln.Close()
		return nil
	}
	defer s.live.removeListener(ln)
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("imapgw: %w", err)
		}
		go s.serveConn(nc, implicit != nil)
	}
}

// serveConn runs one connection's session. A panic ends that session
// only.
func (s *Server) serveConn(nc net.Conn, implicitTLS bool) {
	defer nc.Close()
	sess := s.newSession(nc, implicitTLS)
	if sess == nil {
		io.WriteString(nc, "* BYE "+byeShutdown+"\r\n")
		return
	}
	defer sess.close()
	defer func() {
		if v := recover(); v != nil {
			sess.log.Error("imap session panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		}
	}()
	s.eng.ServeSession(sess.connCtx, nc, sess)
}

// Close stops every listener and closes every connection.
func (s *Server) Close() error {
	s.cancel()
	s.live.closeAll()
	return nil
}
