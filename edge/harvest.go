package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// Delays of the unknown-recipient limit (Config.UnknownRcpts).
const (
	DefaultUnknownRcptDelay = time.Second
	maxUnknownRcptDelay     = 8 * time.Second
	lingerTime              = time.Second // see lingerClose
)

// c421Closing closes the transmission channel (RFC 5321 section 3.8).
const c421Closing = 421

// errHarvest is what Rcpt and Mail return once the connection was closed
// with the 421 reply: go-smtp can no longer write it.
var errHarvest = reply(c421Closing, e470TempSecurity, "Too many unknown recipients, closing connection")

// unknownRecipient refuses an unknown local recipient with 550 5.1.1 and
// counts it, in the session and for the client IP (or the authenticated
// user) in the store, which every edge shares. Past a quarter of
// Config.UnknownRcpts the reply comes after a growing delay, unless the
// client is authenticated; past Config.UnknownRcpts the connection is
// closed with 421 4.7.0. A dictionary attack (address harvesting) thus
// learns a few addresses per IP and window, where it learnt thousands a
// second; a sender with a few typos never notices.
func (s *session) unknownRecipient(tx *transaction) error {
	rep := s.refuse(tx, "unknown_user", errUnknownUser)
	limit := int64(s.srv.cfg.UnknownRcpts)
	if limit <= 0 {
		return rep
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	n := s.srv.cfg.Limits.UnknownRecipient(ctx, s.clientIP, tx.auth)
	s.mu.Lock()
	s.unknown++
	n = max(n, s.unknown)
	s.mu.Unlock()
	if n > limit {
		return s.hangUp(tx.auth, n)
	}
	if tx.auth == "" {
		s.harvestDelay(n)
	}
	return rep
}

// checkHarvest refuses a new transaction from a client IP (or user) that
// reached Config.UnknownRcpts in this window, in this session or another.
func (s *session) checkHarvest(user string) error {
	limit := int64(s.srv.cfg.UnknownRcpts)
	if limit <= 0 || s.srv.cfg.Limits == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.srv.ctx, storeTimeout)
	defer cancel()
	if n := s.srv.cfg.Limits.UnknownRecipients(ctx, s.clientIP, user); n >= limit {
		return s.hangUp(user, n)
	}
	return nil
}

// harvestDelay waits harvestWait(n) before the reply to the n-th unknown
// recipient.
func (s *session) harvestDelay(n int64) {
	d := s.harvestWait(n)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.srv.ctx.Done():
	}
}

// harvestWait is UnknownRcptDelay times the rank of the n-th unknown
// recipient past the free quarter of UnknownRcpts, at most 8 s.
func (s *session) harvestWait(n int64) time.Duration {
	free := max(int64(s.srv.cfg.UnknownRcpts/4), 1)
	if n <= free {
		return 0
	}
	return min(s.srv.cfg.UnknownRcptDelay*time.Duration(n-free), maxUnknownRcptDelay)
}

// hangUp writes the 421 reply and closes the connection itself: go-smtp
// answers what a session returns but keeps the connection open, and a
// pipelining harvester would go on sending. Commands go-smtp had already
// read get errHarvest without any work (session.current, take, Mail).
func (s *session) hangUp(user string, n int64) error {
	s.abandon() // logs the open transaction, if any
	s.mu.Lock()
	s.hungUp = true
	s.mu.Unlock()
	s.reject("unknown_rcpt_limit")
	s.srv.cfg.Log.Warn("smtp unknown recipient limit", slog.String("listener", s.mode.String()),
		slog.String("client_ip", s.clientIP), slog.String("user", user), slog.Int64("count", n))
	c := s.conn.Conn()
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = fmt.Fprintf(c, "%d %d.%d.%d %s %s\r\n", errHarvest.Code, errHarvest.EnhancedCode[0],
		errHarvest.EnhancedCode[1], errHarvest.EnhancedCode[2], s.srv.cfg.Hostname, errHarvest.Message)
	lingerClose(c)
	return errHarvest
}

// lingerClose ends the sending side, reads what the client still sends
// for a moment and closes: closing a socket with unread input makes TCP
// send a reset, which may discard the 421 before the client reads it.
func lingerClose(c net.Conn) {
	for inner := c; inner != nil; {
		if cw, ok := inner.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			break
		}
		switch x := inner.(type) {
		case *trackedConn:
			inner = x.Conn
		case interface{ NetConn() net.Conn }:
			inner = x.NetConn()
		default:
			inner = nil
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c, 1<<20)
	_ = c.Close()
}

// closedByLimit reports whether hangUp closed the connection.
func (s *session) closedByLimit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hungUp
}
