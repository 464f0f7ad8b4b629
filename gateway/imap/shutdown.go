package imapgw

import (
	"context"
	"net"
	"sync"
)

// byeShutdown is the text of the BYE a connection arriving during
// Shutdown is greeted with.
const byeShutdown = "Server shutting down, please reconnect later"

// liveSessions tracks the listeners and open sessions, so that Shutdown
// can say BYE to each session and Close can close everything.
type liveSessions struct {
	mu       sync.Mutex
	closing  bool // Shutdown has begun
	closed   bool // Close has run
	sessions map[*session]struct{}
	lns      map[net.Listener]struct{}
}

// add registers s; false once Shutdown has begun.
func (l *liveSessions) add(s *session) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	if l.sessions == nil {
		l.sessions = map[*session]struct{}{}
	}
	l.sessions[s] = struct{}{}
	return true
}

func (l *liveSessions) remove(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sessions, s)
}

// addListener registers ln; false once Close has run.
func (l *liveSessions) addListener(ln net.Listener) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	if l.lns == nil {
		l.lns = map[net.Listener]struct{}{}
	}
	l.lns[ln] = struct{}{}
	return true
}

func (l *liveSessions) removeListener(ln net.Listener) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.lns, ln)
}

// close marks the set closed and returns the sessions open then.
func (l *liveSessions) close() []*session {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closing = true
	out := make([]*session, 0, len(l.sessions))
	for s := range l.sessions {
		out = append(out, s)
	}
	return out
}

// closeAll closes every listener and every session's connection.
func (l *liveSessions) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closing, l.closed = true, true
	for ln := range l.lns {
		ln.Close()
	}
	for s := range l.sessions {
		s.nc.Close()
	}
}

// Shutdown ends the gateway gracefully: new connections are greeted with
// BYE, every open session gets an untagged BYE between two commands (RFC
// 9051 section 7.1.5) and is closed, then Close stops the listeners and
// closes what is left. Writing BYE to a client that does not read is
// bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	sessions := s.live.close()
	for _, sess := range sessions {
		sess.bye()
	}
	done := make(chan struct{})
	go func() {
		for _, sess := range sessions {
			<-sess.done
		}
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return s.Close()
}
