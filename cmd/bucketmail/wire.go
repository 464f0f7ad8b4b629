package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/bucketmail/bucketmail/edge"
	imapgw "github.com/bucketmail/bucketmail/gateway/imap"
	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/gateway/managesieve"
	"github.com/bucketmail/bucketmail/gateway/pop3"
	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/resolver"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/snapshot"
	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/tlsconf"
	"github.com/bucketmail/bucketmail/worker"
)

// deps are the shared dependencies every role is wired with.
type deps struct {
	cfg     *config
	log     *slog.Logger
	store   store.Store
	blobs   blob.Store
	metrics *metrics.Metrics
	auth    *auth.Authenticator
	dns     resolver.Lookuper // of the auth checks, one cache for edge and worker
	srs     *srs.Keyring      // SRS keys in the blob store, for edge and worker
	// segments writes the text index to the bucket when the store keeps
	// none itself (Redis); nil otherwise or with --search-index=false.
	segments *search.Writer
}

// boundListener is a listening socket and the server that will serve it.
type boundListener struct {
	name  string
	ln    net.Listener
	serve func(net.Listener) error
}

// build binds every listener of roles r (so a busy port fails the start
// before anything runs) and wires the servers.
func (d *deps) build(r roles) (*process, error) {
	p := &process{log: d.log, shutdownTimeout: d.cfg.ShutdownTimeout}
	var tlsConf *tls.Config
	if r.edge || r.gateway {
		var err error
		p.tls, err = tlsconf.Open(d.tlsOptions())
		if err != nil {
			return p, fmt.Errorf("tls: %w", err)
		}
		tlsConf = p.tls.Config()
	}
	if _, ok := d.store.(store.TextStore); !ok && d.cfg.SearchIndex && (r.gateway || r.worker) {
		d.segments = &search.Writer{Blobs: d.blobs, Store: d.store, Log: d.log.With(slog.String("role", "search")), Metrics: d.metrics}
	}
	if r.edge {
		if err := d.wireEdge(p, tlsConf); err != nil {
			return p, err
		}
	}
	if r.gateway {
		if err := d.wireGateway(p, tlsConf); err != nil {
			return p, err
		}
		if d.segments != nil && !r.worker {
			d.runBeside(p, d.segments.Run) // with a worker, it runs beside it
		}
	}
	if r.worker {
		if err := d.wireWorker(p); err != nil {
			return p, err
		}
	}
	if err := d.wireHTTP(p); err != nil {
		return p, err
	}
	return p, nil
}

// listen binds addr unless it is empty (the listener is disabled) and logs
// the bound address, which tests read to find ":0" ports.
func (d *deps) listen(p *process, name, addr string, serve func(net.Listener) error) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if d.cfg.ReadinessGate && name != "http" && name != "metrics" {
		g := newGatedListener(ln)
		p.gates = append(p.gates, g)
		p.ready = func(ctx context.Context) error { return ready(ctx, d.store, d.blobs) }
		ln = g
	}
	ln = d.withProxyProtocol(name, ln)
	d.log.Info("listening", slog.String("listener", name), slog.String("addr", ln.Addr().String()))
	p.listeners = append(p.listeners, boundListener{name: name, ln: ln, serve: serve})
	return nil
}

func (d *deps) wireEdge(p *process, tlsConf *tls.Config) error {
	log := d.log.With(slog.String("role", "edge"))
	srv := edge.New(edge.Config{
		Hostname:          d.cfg.Hostname,
		MaxMessageSize:    int64(d.cfg.MaxMessageSize),
		MaxRecipients:     d.cfg.MaxRecipients,
		TLS:               tlsConf,
		AllowInsecureAuth: d.cfg.AllowInsecureAuth,
		Dir:               d.store,
		Queue:             d.store,
		Blobs:             d.blobs,
		Auth:              d.auth,
		DMARCReject:       d.edgeDMARCChecker(),
		Limits:            d.abuseLimits(),
		Conns:             d.connLimits(log),
		Mailboxes:         d.store,
		DefaultQuota:      int64(d.cfg.DefaultQuota),
		SRS:               d.srsKeys(),
		UnknownRcpts:      d.cfg.Harvest.UnknownRcpts,
		UnknownRcptDelay:  d.cfg.Harvest.UnknownRcptDelay,
		LocalSenders:      d.edgeLocalSenders(),
		Log:               log,
		Metrics:           d.metrics,
	})
	p.stoppers = append(p.stoppers, srv.Shutdown)
	serve := func(mode edge.Mode) func(net.Listener) error {
		return func(ln net.Listener) error { return srv.Serve(ln, mode) }
	}
	return errors.Join(
		d.listen(p, "smtp", d.cfg.SMTPAddr, serve(edge.MX)),
		d.listen(p, "submission", d.cfg.SubmissionAddr, serve(edge.Submission)),
		d.listen(p, "submissions", d.cfg.SubmissionsAddr, serve(edge.SubmissionTLS)),
	)
}

func (d *deps) wireGateway(p *process, tlsConf *tls.Config) error {
	limits := d.abuseLimits()
	var textIndex store.TextIndex
	if d.segments != nil {
		textIndex = &search.Index{Blobs: d.blobs, Store: d.store}
	}
	imapSrv := imapgw.New(imapgw.Config{
		Hostname:          d.cfg.Hostname,
		TLS:               tlsConf,
		AllowInsecureAuth: d.cfg.AllowInsecureAuth,
		Store:             d.store,
		Blobs:             d.blobs,
		Auth:              d.auth,
		Log:               d.log.With(slog.String("role", "imap")),
		Metrics:           d.metrics,
		AppendLimit:       int64(d.cfg.MaxMessageSize),
		DefaultQuota:      int64(d.cfg.DefaultQuota),
		Limits:            limits,
		Conns:             d.connLimits(d.log.With(slog.String("role", "imap"))),
		TextIndex:         textIndex,
		TextSink:          d.textSink(),
		NoSearchIndex:     !d.cfg.SearchIndex,
		Timeouts: engine.Timeouts{
			PreLogin:      d.cfg.IMAPPreLoginTimeout,
			Authenticated: d.cfg.IMAPIdleTimeout,
			Idle:          d.cfg.IMAPIdleCommandTimeout,
		},
		Compress: d.cfg.IMAPCompress,
		Version:  version,
	})
	pop3Srv := pop3.New(pop3.Config{
		Hostname:          d.cfg.Hostname,
		TLS:               tlsConf,
		AllowInsecureAuth: d.cfg.AllowInsecureAuth,
		Store:             d.store,
		Blobs:             d.blobs,
		Auth:              d.auth,
		Log:               d.log.With(slog.String("role", "pop3")),
		Metrics:           d.metrics,
		Limits:            limits,
		Conns:             d.connLimits(d.log.With(slog.String("role", "pop3"))),
	})
	sieveSrv := managesieve.New(managesieve.Config{
		Hostname:          d.cfg.Hostname,
		TLS:               tlsConf,
		AllowInsecureAuth: d.cfg.AllowInsecureAuth,
		Auth:              d.auth,
		Scripts:           &sievestore.Scripts{Blobs: d.blobs, Store: d.store},
		Log:               d.log.With(slog.String("role", "managesieve")),
		Limits:            limits,
		Conns:             d.connLimits(d.log.With(slog.String("role", "managesieve"))),
	})
	p.stoppers = append(p.stoppers, imapSrv.Shutdown, pop3Srv.Shutdown, sieveSrv.Shutdown)
	imapServe := func(implicit bool) func(net.Listener) error {
		return func(ln net.Listener) error { return imapSrv.Serve(ln, implicit) }
	}
	pop3Serve := func(implicit bool) func(net.Listener) error {
		return func(ln net.Listener) error { return pop3Srv.Serve(ln, implicit) }
	}
	return errors.Join(
		d.listen(p, "imap", d.cfg.IMAPAddr, imapServe(false)),
		d.listen(p, "imaps", d.cfg.IMAPSAddr, imapServe(true)),
		d.listen(p, "pop3", d.cfg.POP3Addr, pop3Serve(false)),
		d.listen(p, "pop3s", d.cfg.POP3SAddr, pop3Serve(true)),
		d.listen(p, "managesieve", d.cfg.ManageSieveAddr, sieveSrv.Serve),
	)
}

func (d *deps) wireWorker(p *process) error {
	consumer := fmt.Sprintf("%s-%d", d.cfg.Hostname, os.Getpid())
	w := worker.New(worker.Config{
		Store:        d.store,
		Blobs:        d.blobs,
		Hostname:     d.cfg.Hostname,
		Consumer:     consumer,
		Concurrency:  d.cfg.WorkerConcurrency,
		Lease:        d.cfg.WorkerLease,
		JobTimeout:   d.cfg.JobTimeout,
		Drain:        d.cfg.Drain,
		Log:          d.log,
		Metrics:      d.metrics,
		Checker:      d.authChecker(),
		DefaultQuota: int64(d.cfg.DefaultQuota),
		SRS:          d.srsKeys(),
		ForwardJunk:  d.cfg.ForwardJunk,
		Sieve:        &sievestore.Scripts{Blobs: d.blobs, Store: d.store},
		// A typed nil *search.Writer must not become a non-nil TextSink.
		TextSink:      d.textSink(),
		NoSearchIndex: !d.cfg.SearchIndex,
	})
	out, err := d.outboundSender(consumer)
	if err != nil {
		return err
	}
	others := []func(context.Context) error{out.Run}
	if r := d.reconciler(consumer); r != nil {
		others = append(others, r.Run)
	}
	if s := d.snapshotter(consumer); s != nil {
		others = append(others, s.Run)
	}
	if d.segments != nil {
		others = append(others, d.segments.Run)
	}
	p.worker = sideBySide(w.Run, others...)
	p.drain = d.cfg.Drain
	return nil
}

// reconciler returns the reconciler a worker runs, or nil when it is
// turned off.
func (d *deps) reconciler(holder string) *reconcile.Reconciler {
	if d.cfg.ReconcileInterval == 0 {
		return nil
	}
	return reconcile.New(reconcile.Config{
		Store:    d.store,
		Blobs:    d.blobs,
		Holder:   holder,
		Grace:    d.cfg.ReconcileGrace,
		Interval: d.cfg.ReconcileInterval,
		GCDelay:  d.cfg.GCDelay,
		Log:      d.log,
		Metrics:  d.metrics,
	})
}

// snapshotter returns the index snapshotter a worker runs, or nil.
func (d *deps) snapshotter(holder string) *snapshot.Snapshotter {
	if d.cfg.SnapshotInterval == 0 {
		return nil
	}
	return snapshot.New(snapshot.Config{
		Store:    d.store,
		Blobs:    d.blobs,
		Holder:   holder,
		Interval: d.cfg.SnapshotInterval,
		Log:      d.log,
	})
}

// wireHTTP serves the public HTTP listener (health, autoconfig, MTA-STS,
// ACME HTTP-01) and the private metrics listener (/metrics, /debug/pprof).
func (d *deps) wireHTTP(p *process) error {
	var public http.Handler = withAutoconfig(newHealthHandler(d.store, d.blobs, d.log),
		d.cfg.Hostname, p.listeners, d.store, d.log)
	if p.tls != nil {
		public = p.tls.HTTPHandler(public) // ACME HTTP-01 challenges, when ACME is on
	}
	private := newMetricsHandler(d.store, d.blobs, d.metrics, d.log)
	if d.cfg.PProf {
		private = withPProf(private)
	}
	return errors.Join(
		d.serveHTTP(p, "http", d.cfg.HTTPAddr, public),
		d.serveHTTP(p, "metrics", d.cfg.MetricsAddr, private),
	)
}

// srsKeys returns the SRS keyring of the process, one for the edge and the
// worker so that they share its cache.
func (d *deps) srsKeys() *srs.Keyring {
	if d.srs == nil {
		d.srs = &srs.Keyring{Blobs: d.blobs}
	}
	return d.srs
}

// textSink is where texts go besides the store: the segment writer, or nil.
func (d *deps) textSink() store.TextSink {
	if d.segments == nil {
		return nil
	}
	return d.segments
}

// runBeside runs fn until the process stops: its shutdown cancels fn's
// context and waits for it to return (the segment writer then writes
// what it holds).
func (d *deps) runBeside(p *process, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Warn("background task", slog.Any("err", err))
		}
	}()
	p.stoppers = append(p.stoppers, func(sctx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-sctx.Done():
			return sctx.Err()
		}
	})
}
