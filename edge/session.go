package edge

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/store"
)

// session is one SMTP session, from EHLO (or STARTTLS) to QUIT. go-smtp
// calls it from the connection's goroutine, except that BDAT runs Data in a
// goroutine of its own and Close may call Logout from anywhere: the mutex
// guards what those share.
type session struct {
	srv      *Server
	mode     Mode
	conn     *smtp.Conn
	clientIP string
	tls      *tls.ConnectionState // nil without TLS

	mu     sync.Mutex
	user   *store.User  // the authenticated user (submission only)
	tx     *transaction // nil outside MAIL..DATA
	inData bool         // DATA is being received or stored (shutdown.go)
	logout sync.Once

	// unknown counts the recipients refused as unknown; hungUp is set
	// once the connection was closed over their limit (harvest.go).
	unknown int64
	hungUp  bool
}

// transaction is the envelope of one message, from MAIL to DATA or RSET.
type transaction struct {
	start    time.Time
	helo     string
	from     string // "" is the null sender
	rcpts    []string
	seen     map[string]bool // lower-cased accepted recipients
	rejected int             // recipients refused
	auth     string          // submitter's address
	remote   bool            // some recipient is in a domain that is not ours
	size     int64           // SIZE= of MAIL (RFC 1870), 0 when not given
}

var _ smtp.Session = (*session)(nil)

func newSession(srv *Server, mode Mode, c *smtp.Conn) *session {
	s := &session{srv: srv, mode: mode, conn: c, clientIP: remoteIP(c.Conn().RemoteAddr())}
	if st, ok := c.TLSConnectionState(); ok {
		s.tls = &st
	}
	srv.cfg.Metrics.Sessions.WithLabelValues(mode.String()).Inc()
	srv.live.bind(s)
	return s
}

func remoteIP(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// Mail starts a transaction. On port 25 any sender is accepted, the null
// sender included (RFC 5321 section 4.5.5), except one in a local domain
// that SPF does not authorise (checkLocalSender); the rest of SPF and the
// like are the worker's business. Submission requires AUTH and a sender
// the user owns.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.closedByLimit() {
		return errHarvest // a command go-smtp read before the hang-up
	}
	s.abandon() // a MAIL without RSET after a failed DATA starts afresh
	tx := &transaction{start: time.Now(), helo: s.conn.Hostname(), from: from, seen: map[string]bool{}}
	if opts != nil {
		tx.size = opts.Size
	}
	if s.mode != MX {
		user := s.authUser()
		if user == nil {
			s.reject("auth_required")
			return errAuthRequired
		}
		if err := s.checkSender(user, from); err != nil {
			return err
		}
		if err := s.checkSendRate(user.Address, 0); err != nil {
			return err
		}
		tx.auth = user.Address
	}
	if err := s.checkHarvest(tx.auth); err != nil {
		return err
	}
	if err := s.checkLocalSender(tx.helo, from); err != nil {
		return err
	}
	s.mu.Lock()
	s.tx = tx
	s.mu.Unlock()
	return nil
}

// Reset ends the current transaction (RSET, a new EHLO, the end of DATA).
func (s *session) Reset() { s.abandon() }

// Logout is called once the connection is closed.
func (s *session) Logout() error {
	s.logout.Do(func() {
		s.abandon()
		s.srv.cfg.Metrics.Sessions.WithLabelValues(s.mode.String()).Dec()
	})
	return nil
}

// abandon logs a transaction that ended without DATA.
func (s *session) abandon() {
	s.mu.Lock()
	tx := s.tx
	s.tx = nil
	s.mu.Unlock()
	if tx != nil {
		s.logTx(tx, outcome{result: "abandoned"})
	}
}

func (s *session) authUser() *store.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user
}

func (s *session) current() *transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hungUp {
		return nil
	}
	return s.tx
}

// take removes the transaction for DATA, which owns it from then on.
func (s *session) take() *transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.tx
	s.tx = nil
	if s.hungUp {
		return nil
	}
	return tx
}

func (s *session) reject(reason string) {
	s.srv.cfg.Metrics.Rejected.WithLabelValues(reason).Inc()
}

func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}
