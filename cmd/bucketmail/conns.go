package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/bucketmail/bucketmail/internal/abuse"
)

// Defaults of the connection limits (per listener and node).
const (
	defaultMaxConnections      = 10000
	defaultMaxConnectionsPerIP = 50
	defaultTLSHandshakeTimeout = abuse.DefaultHandshakeTimeout
	defaultLineTimeout         = 30 * time.Second
	defaultMinLineRate         = abuse.DefaultMinLineRate
)

// connConfig holds the connection limits of every SMTP, IMAP and POP3
// listener, counted in each process.
type connConfig struct {
	MaxConnections      int
	MaxConnectionsPerIP int
	TLSHandshakeTimeout time.Duration
	LineTimeout         time.Duration
	MinLineRate         int64
}

func (c *connConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxConnections, "max-connections", defaultMaxConnections, "open connections per SMTP, IMAP or POP3 listener of a process (those still in their TLS handshake included); over it: SMTP 421 4.7.0, IMAP * BYE [UNAVAILABLE], POP3 -ERR [SYS/TEMP], then close; see docs/security.md (0: no cap)")
	fs.IntVar(&c.MaxConnectionsPerIP, "max-connections-per-ip", defaultMaxConnectionsPerIP, "open connections per listener of a process from one client IP (IPv6: one /64); loopback is exempt (a local webmail or proxy speaks for all its users); over it the same temporary refusal as --max-connections (0: no cap)")
	fs.DurationVar(&c.TLSHandshakeTimeout, "tls-handshake-timeout", defaultTLSHandshakeTimeout, "bound of a TLS handshake: on ports 465, 993 and 995 from the accept (a client that sends no ClientHello is closed), for SMTP STARTTLS from the ClientHello on, for POP3 STLS from the command on")
	fs.DurationVar(&c.LineTimeout, "line-timeout", defaultLineTimeout, "how long a client may take to send one command line, from its first byte to the answer, plus one second per --min-line-rate bytes received (so message bodies and literals at a reasonable rate are never cut); a line that trickles in is cut (SMTP answers 421 4.4.2) and the connection closed; the wait between commands (IMAP IDLE included) is not counted (0: no bound)")
	fs.Int64Var(&c.MinLineRate, "min-line-rate", defaultMinLineRate, "bytes per second that keep a long input (DATA, APPEND) going past --line-timeout")
}

func (c *connConfig) check() error {
	if c.MaxConnections < 0 || c.MaxConnectionsPerIP < 0 || c.TLSHandshakeTimeout < 0 || c.LineTimeout < 0 || c.MinLineRate < 0 {
		return usagef("negative connection limits are not allowed")
	}
	return nil
}

// connLimits returns the connection limits of one role's listeners.
func (d *deps) connLimits(log *slog.Logger) abuse.ConnConfig {
	c := d.cfg.Abuse.Conns
	return abuse.ConnConfig{
		MaxConns:         c.MaxConnections,
		MaxConnsPerIP:    c.MaxConnectionsPerIP,
		HandshakeTimeout: c.TLSHandshakeTimeout,
		LineTimeout:      c.LineTimeout,
		MinLineRate:      c.MinLineRate,
		Log:              log,
	}
}
