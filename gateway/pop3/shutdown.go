package pop3

import (
	"context"
	"errors"
	"net"
	"time"
)

// textShutdown ends every session at shutdown, after the [SYS/TEMP] code
// (RFC 3206 section 4): the client should come back later.
const textShutdown = "server shutting down"

// sayShutdown tells the client the server is going away. The session then
// ends without entering the UPDATE state (RFC 1939 section 6), so no
// message marked for deletion is removed.
func (s *session) sayShutdown() {
	s.err(codeSysTemp, textShutdown)
	_ = s.flush() // the client may be gone already
}

// Shutdown stops accepting, lets each session finish the command it is
// running, answers its next read with "-ERR [SYS/TEMP] server shutting
// down" and closes it. Sessions still open when ctx ends are closed as by
// Close.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	// A session waiting for a command wakes up now; one running a command
	// sees closed before its next read (session.serve).
	for c := range s.conns {
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.sessions.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return errors.Join(append(errs, s.Close())...)
}
