// Package outbound delivers the jobs of the outbound queue: submitted
// messages with remote recipients. Local recipients are handed to the
// inbound queue (the MDA in worker/); remote ones are grouped by domain and
// sent, DKIM-signed, over SMTP to the domain's MX hosts, a relay, a static
// route or Amazon SES. Temporary failures are retried with exponential
// backoff for Lifetime; permanent failures and expiry send the sender a
// delivery status notification (RFC 3464) into their INBOX.
package outbound

import (
	"context"
	"crypto/tls"
	"log/slog"
	"strings"
	"sync"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Sender runs the outbound queue.
type Sender struct {
	cfg    Config
	log    *slog.Logger
	direct Transport
	routes map[string]Transport
	def    Transport // the transport of every domain without a route
}

// New returns a Sender; nothing runs until Run.
func New(cfg Config) *Sender {
	cfg = cfg.withDefaults()
	s := &Sender{cfg: cfg, log: cfg.Log.With(slog.String("role", "outbound")), routes: map[string]Transport{}}
	d := &smtpDialer{hostname: cfg.Hostname, dial: cfg.Dial, limit: newLimiter(cfg.PerDestination)}
	s.direct = &direct{d: d, resolver: cfg.Resolver, port: cfg.Port, tls: cfg.TLSConfig}
	for domain, hp := range cfg.Routes {
		host, port, err := SplitHostPort(hp)
		if err != nil {
			s.log.Error("bad route ignored", slog.String("domain", domain), slog.String("error", err.Error()))
			continue
		}
		s.routes[strings.ToLower(domain)] = &hostTransport{d: d, resolver: cfg.Resolver, host: host, port: port, tls: cfg.TLSConfig}
	}
	s.def = s.direct
	switch {
	case cfg.Relay != "":
		host, port, err := SplitHostPort(cfg.Relay)
		if err != nil {
			s.log.Error("bad relay host: delivering directly", slog.String("error", err.Error()))
			break
		}
		tc := cfg.RelayTLS
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		mode := tlsOpportunistic
		switch {
		case port == "465":
			mode = tlsImplicit
		case cfg.RelayUser != "":
			mode = tlsRequired // never send the password in the clear
		}
		s.def = &hostTransport{d: d, resolver: cfg.Resolver, host: host, port: port, mode: mode, tls: tc,
			user: cfg.RelayUser, pass: cfg.RelayPassword}
	case cfg.Transport != nil:
		s.def = cfg.Transport
	}
	return s
}

// transportFor picks the transport of domain.
func (s *Sender) transportFor(domain string) Transport {
	if t, ok := s.routes[strings.ToLower(domain)]; ok {
		return t
	}
	return s.def
}

// Run runs Concurrency loops until ctx ends, then lets the jobs in flight
// finish and returns nil.
func (s *Sender) Run(ctx context.Context) error {
	if err := s.migrateCheckpoints(ctx); err != nil {
		// Not fatal: the next start tries again, and a queued job's
		// checkpoint moves when the job runs.
		s.log.Warn("migrating outbound checkpoints", slog.String("error", err.Error()))
	}
	var wg sync.WaitGroup
	for range s.cfg.Concurrency {
		wg.Go(func() { s.loop(ctx) })
	}
	wg.Wait()
	return nil
}

// loop claims and sends outbound jobs until ctx ends (store.ClaimLoop).
func (s *Sender) loop(ctx context.Context) {
	// No loop budget: an attempt is bounded by AttemptTimeout, and one
	// that ran out is a temporary failure with its own retries and
	// lifetime, its recipients done so far kept.
	store.ClaimLoop(ctx, s.cfg.Store, store.LoopConfig{
		Queue: store.QueueOutbound, Consumer: s.cfg.Consumer, Wait: claimWait, Lease: s.cfg.Lease,
		Log: s.log, Process: s.processJob,
	})
}

// processJob runs one attempt at j within AttemptTimeout; settling it has
// its own time (see process).
func (s *Sender) processJob(ctx context.Context, j store.Job) {
	jctx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	defer cancel()
	s.process(jctx, context.WithoutCancel(ctx), j)
}
