package abuse

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// errLineTooSlow ends the reads of a connection whose command line
// arrives too slowly. It is a timeout, so that servers answer it as their
// own read timeout (go-smtp: 421 4.4.2) before closing.
var errLineTooSlow error = lineTooSlow{}

type lineTooSlow struct{}

func (lineTooSlow) Error() string   { return "abuse: command line too slow" }
func (lineTooSlow) Timeout() bool   { return true }
func (lineTooSlow) Temporary() bool { return false }

// guardConn bounds the time a client takes to send one input: from the
// first byte read after the server's last write ("an answer") to the
// next answer, the time spent waiting in Read may not exceed
// LineTimeout plus 1/MinLineRate s per byte received. Time the server
// spends elsewhere (storing a message) is not counted, nor the wait for
// the first byte (idle between commands, IMAP IDLE).
//
// It sits under any TLS, so it sees records rather than lines; the
// answers of a TLS handshake are writes too, so a handshake is bounded
// the same way once its first byte arrived.
type guardConn struct {
	net.Conn
	line    time.Duration // 0: no bound
	rate    int64
	log     *slog.Logger
	release func()
	once    sync.Once

	mu       sync.Mutex
	userRD   time.Time     // read deadline asked for by the server
	setRD    time.Time     // read deadline last set on the socket
	readDL   time.Time     // the bound of the read in progress, or zero
	active   bool          // an input is arriving: read since the last answer
	waited   time.Duration // time spent in Read since the input's first byte
	received int64         // bytes of the input
	answers  uint64        // writes so far
	cut      bool
}

func newGuardConn(c net.Conn, cfg ConnConfig, release func()) *guardConn {
	return &guardConn{Conn: c, line: cfg.LineTimeout, rate: cfg.minLineRate(),
		log: cfg.log(), release: release}
}

// NetConn returns the connection under the bound, so that callers can
// reach its socket (the IMAP gateway watches it for a client that left).
func (g *guardConn) NetConn() net.Conn { return g.Conn }

// Read reads within the bound of the current input.
func (g *guardConn) Read(p []byte) (int, error) {
	if g.line <= 0 {
		return g.Conn.Read(p)
	}
	for {
		answers, err := g.beforeRead()
		if err != nil {
			return 0, err
		}
		start := time.Now()
		n, err := g.Conn.Read(p)
		if retry, err := g.afterRead(answers, start, n, err); !retry {
			return n, err
		}
	}
}

// beforeRead sets the socket's read deadline to the earlier of the
// server's and the input's bound.
func (g *guardConn) beforeRead() (answers uint64, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cut {
		return 0, errLineTooSlow
	}
	g.readDL = time.Time{}
	if g.active {
		earned := time.Duration(float64(g.received) / float64(g.rate) * float64(time.Second))
		left := g.line + earned - g.waited
		if left <= 0 {
			return 0, g.tripLocked()
		}
		g.readDL = time.Now().Add(left)
	}
	return g.answers, g.applyLocked()
}

// afterRead accounts for a read; retry reports that the input's bound
// expired while an answer reset it, so the read must be made again.
func (g *guardConn) afterRead(answers uint64, start time.Time, n int, err error) (retry bool, _ error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	bounded := !g.readDL.IsZero() // an answer may have reset active since
	if n > 0 && !g.active {
		g.active = true
	} else if g.active {
		g.waited += time.Since(start)
	}
	g.received += int64(n)
	fired := bounded && err != nil && errors.Is(err, os.ErrDeadlineExceeded) && g.boundFiredLocked()
	g.readDL = time.Time{}
	if !fired {
		return false, err
	}
	if answers != g.answers && n == 0 {
		return true, nil
	}
	return false, g.tripLocked()
}

// boundFiredLocked reports whether the deadline that expired was the
// input's bound, not the server's own.
func (g *guardConn) boundFiredLocked() bool {
	return !g.readDL.IsZero() && (g.userRD.IsZero() || g.readDL.Before(g.userRD)) &&
		!time.Now().Before(g.readDL)
}

func (g *guardConn) tripLocked() error {
	if !g.cut {
		g.cut = true
		g.log.Info("connection closed: input too slow",
			slog.String("client_ip", ClientIP(g.RemoteAddr())),
			slog.Int64("bytes", g.received), slog.Duration("waited", g.waited))
	}
	return errLineTooSlow
}

// applyLocked sets the socket's read deadline when it changed.
func (g *guardConn) applyLocked() error {
	d := g.userRD
	if !g.readDL.IsZero() && (d.IsZero() || g.readDL.Before(d)) {
		d = g.readDL
	}
	if d.Equal(g.setRD) {
		return nil
	}
	g.setRD = d
	return g.Conn.SetReadDeadline(d)
}

// Write is an answer: the client's input is complete.
func (g *guardConn) Write(p []byte) (int, error) {
	if g.line > 0 {
		g.mu.Lock()
		g.active, g.waited, g.received = false, 0, 0
		g.answers++
		g.mu.Unlock()
	}
	return g.Conn.Write(p)
}

// SetReadDeadline records the server's deadline; a read in progress gets
// the earlier of it and the input's bound.
func (g *guardConn) SetReadDeadline(t time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.userRD = t
	return g.applyLocked()
}

// SetDeadline sets both deadlines (the read one as SetReadDeadline).
func (g *guardConn) SetDeadline(t time.Time) error {
	if err := g.SetReadDeadline(t); err != nil {
		return err
	}
	return g.Conn.SetWriteDeadline(t)
}

// Close closes the connection and leaves the listener's counts.
func (g *guardConn) Close() error {
	g.once.Do(g.release)
	return g.Conn.Close()
}
