package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/tlsconf"
)

func (a *app) cmdRun(ctx context.Context, args []string) error {
	all := roles{edge: true, worker: true, gateway: true}
	var cfg config
	fs := newFlagSet("run")
	cfg.register(fs, all)
	rolesFlag := fs.String("roles", "edge,worker,gateway", "roles to run in this process (comma-separated subset of edge, worker, gateway)")
	if err := a.parseServer(fs, &cfg, "bucketmail run [FLAGS]", args); err != nil {
		return err
	}
	r, err := parseRoles(*rolesFlag)
	if err != nil {
		return usagef("--roles: %v", err)
	}
	return a.serve(ctx, &cfg, r)
}

func (a *app) cmdEdge(ctx context.Context, args []string) error {
	return a.serveRole(ctx, "edge", roles{edge: true}, args)
}

func (a *app) cmdWorker(ctx context.Context, args []string) error {
	return a.serveRole(ctx, "worker", roles{worker: true}, args)
}

func (a *app) cmdGateway(ctx context.Context, args []string) error {
	return a.serveRole(ctx, "gateway", roles{gateway: true}, args)
}

func (a *app) serveRole(ctx context.Context, name string, r roles, args []string) error {
	var cfg config
	fs := newFlagSet(name)
	cfg.register(fs, r)
	if err := a.parseServer(fs, &cfg, "bucketmail "+name+" [FLAGS]", args); err != nil {
		return err
	}
	return a.serve(ctx, &cfg, r)
}

// parseServer parses the flags of a server command, which takes no
// positional arguments.
func (a *app) parseServer(fs *flag.FlagSet, cfg *config, synopsis string, args []string) error {
	pos, err := a.parse(fs, synopsis, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return cfg.check()
}

// serve runs roles r until ctx ends, then shuts down gracefully: listeners
// close first, then the worker finishes its in-flight jobs.
func (a *app) serve(ctx context.Context, cfg *config, r roles) error {
	log, err := newLogger(a.stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	m := metrics.New()
	st, bl, err := openStorageContext(ctx, cfg.storageConfig, m)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing store", slog.String("error", err.Error()))
		}
	}()

	d := &deps{
		cfg:     cfg,
		log:     log,
		store:   st,
		blobs:   bl,
		metrics: m,
		auth:    auth.New(st, auth.Options{CacheTTL: cfg.AuthCacheTTL}),
	}
	p, err := d.build(r)
	if err != nil {
		p.closeListeners()
		return err
	}
	log.Info("bucketmail ready",
		slog.String("roles", r.String()),
		slog.String("hostname", cfg.Hostname),
		slog.String("store", redact(cfg.Store)),
		slog.String("blobs", redact(cfg.Blobs)),
		slog.Int("pid", os.Getpid()))
	err = p.run(ctx)
	log.Info("bucketmail stopped")
	return err
}

// process is what serve runs: listeners with their servers, the HTTP
// server, the worker, and how to stop each.
type process struct {
	log       *slog.Logger
	listeners []boundListener
	stoppers  []func(context.Context) error // graceful server shutdowns, run together (shutdown.go)
	closers   []func() error                // servers to close on shutdown, once each
	tls       *tlsconf.Manager              // nil without TLS listeners
	tlsPoll   time.Duration                 // how often tls checks its files (0: tlsPollInterval)
	// shutdownTimeout bounds the graceful shutdown (0: the default).
	shutdownTimeout time.Duration
	worker          func(context.Context) error // nil without the worker role
	gates           []*gatedListener            // protocol listeners closed while not ready (--readiness-gate)
	ready           func(context.Context) error // the /readyz check, for the gates
	drain           bool                        // the worker returning nil is the normal end
}

// run serves until ctx ends or a server fails.
func (p *process) run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, len(p.listeners)+1)
	var mu sync.Mutex
	stopping := false
	for _, l := range p.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := l.serve(l.ln)
			mu.Lock()
			defer mu.Unlock()
			if !stopping {
				errc <- fmt.Errorf("%s on %s stopped: %v", l.name, l.ln.Addr(), err)
			}
		}()
	}
	stopTLS := p.watchTLS(ctx)
	defer stopTLS()
	gateCtx, stopGates := context.WithCancel(ctx)
	defer stopGates()
	go runGate(gateCtx, p.gates, p.ready, gateInterval, p.log)
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	var workerDone chan error // stays nil without the worker: never ready
	if p.worker != nil {
		workerDone = make(chan error, 1)
		go func() { workerDone <- p.worker(workerCtx) }()
	}

	var errs []error
	select {
	case <-ctx.Done():
		p.log.Info("shutting down")
	case err := <-errc:
		p.log.Error("server failed", slog.String("error", err.Error()))
		errs = append(errs, err)
	case err := <-workerDone:
		// The worker returns only when its context ends; anything else
		// is a failure that stops the process.
		workerDone = nil
		if err == nil && p.drain {
			p.log.Info("queues drained, stopping")
			break
		}
		if err == nil {
			err = errors.New("stopped unexpectedly")
		}
		err = fmt.Errorf("worker: %w", err)
		p.log.Error("worker failed", slog.String("error", err.Error()))
		errs = append(errs, err)
	}
	mu.Lock()
	stopping = true
	mu.Unlock()

	// Stop accepting first and end the sessions gracefully, then let the
	// worker finish its in-flight jobs, all within the shutdown timeout.
	sctx, cancel := p.shutdownContext()
	defer cancel()
	p.stopServers(sctx)
	wg.Wait()
	stopWorker()
	if workerDone != nil {
		select {
		case err := <-workerDone:
			if err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("worker: %w", err))
			}
		case <-sctx.Done():
			// Unacknowledged jobs go back to the queue when their lease
			// ends; nothing is lost.
			p.log.Warn("shutdown timeout: leaving in-flight jobs to their lease")
		}
	}
	return errors.Join(errs...)
}

func (p *process) closeListeners() {
	if p == nil {
		return
	}
	for _, l := range p.listeners {
		l.ln.Close()
	}
}
