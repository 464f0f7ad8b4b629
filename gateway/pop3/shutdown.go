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
	// A session waiting for a command wakes up now; one running a command
	// sees the stop before its next read (session.serve).
	err := s.open.Stop(func(c net.Conn) { _ = c.SetReadDeadline(time.Now()) })
	s.open.Wait(ctx)
	return errors.Join(err, s.Close())
}
