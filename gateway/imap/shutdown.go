package imapgw

import (
	"context"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// byeShutdown is the text of the BYE sent to every session at shutdown.
const byeShutdown = "Server shutting down, please reconnect later"

// liveSessions tracks the open connections so that Shutdown can say BYE to
// each: imapserver.Server.Close only closes the sockets.
type liveSessions struct {
	mu      sync.Mutex
	closing bool
	conns   map[*imapserver.Conn]struct{}
}

// add registers c; false once Shutdown has begun.
func (l *liveSessions) add(c *imapserver.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	if l.conns == nil {
		l.conns = map[*imapserver.Conn]struct{}{}
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *liveSessions) remove(c *imapserver.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
}

// close marks the set closed and returns the connections open then.
func (l *liveSessions) close() []*imapserver.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closing = true
	conns := make([]*imapserver.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	return conns
}

// errShuttingDown refuses a connection that arrives during Shutdown: the
// greeting is an untagged BYE (RFC 9051 section 7.1.5).
var errShuttingDown = &imap.Error{Type: imap.StatusResponseTypeBye, Text: byeShutdown}

// Shutdown ends the gateway gracefully: new connections are greeted with
// BYE, every open session gets an untagged BYE (RFC 9051 section 7.1.5;
// imapserver writes it between responses, never inside one) and is closed,
// then Close stops the listeners. Writing BYE to a client that does not
// read is bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	conns := s.live.close()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Bye(byeShutdown) // the client may be gone already
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return s.Close()
}
