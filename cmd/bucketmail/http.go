package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bucketmail/bucketmail/internal/autoconfig"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
)

// probeTimeout bounds each backend check of /readyz and each queue count
// of /metrics, so a stuck backend makes the probe fail instead of hang.
const probeTimeout = 3 * time.Second

// newHealthHandler serves /healthz (the process is up) and /readyz (the
// backends answer). Both listeners serve it: load balancers and
// Kubernetes probe the public one, a monitoring agent may use either.
func newHealthHandler(st store.Store, bl blob.Store, log *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context(), st, bl); err != nil {
			log.Warn("not ready", slog.String("error", err.Error()))
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// newMetricsHandler serves, besides the health checks, /metrics
// (Prometheus). It belongs on --metrics-addr only: the metrics show queue
// depths and rejection counts to whoever asks, without a password.
func newMetricsHandler(st store.Store, bl blob.Store, m *metrics.Metrics, log *slog.Logger) http.Handler {
	mux := newHealthHandler(st, bl, log)
	prom := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		refreshQueueDepth(r.Context(), st, m, log)
		refreshSearchBacklog(r.Context(), st, m, log)
		prom.ServeHTTP(w, r)
	})
	return mux
}

// serveHTTP binds addr as listener name and serves h there until shutdown.
func (d *deps) serveHTTP(p *process, name, addr string, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	p.stoppers = append(p.stoppers, func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if err != nil {
			srv.Close() // requests still open when the bound passed
		}
		return err
	})
	return d.listen(p, name, addr, func(ln net.Listener) error {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
}

// withPProf adds the Go runtime profiles under /debug/pprof/ (--pprof).
func withPProf(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", h)
	return mux
}

// withAutoconfig serves, besides h, the MTA-STS policy and the client
// autoconfiguration documents (internal/autoconfig) built from the client
// listeners this process bound (listener names of wire.go).
func withAutoconfig(h http.Handler, hostname string, bound []boundListener, dir store.Directory, log *slog.Logger) http.Handler {
	kinds := map[string]struct {
		p        autoconfig.Protocol
		implicit bool
	}{
		"submission": {autoconfig.SMTP, false}, "submissions": {autoconfig.SMTP, true},
		"imap": {autoconfig.IMAP, false}, "imaps": {autoconfig.IMAP, true},
		"pop3": {autoconfig.POP3, false}, "pop3s": {autoconfig.POP3, true},
		"managesieve": {autoconfig.ManageSieve, false},
	}
	cfg := autoconfig.Config{Hostname: hostname, HasDomain: dir.HasDomain, Log: log}
	for _, b := range bound {
		k, ok := kinds[b.name]
		if !ok {
			continue
		}
		if l, ok := autoconfig.ListenerFromAddr(k.p, b.ln.Addr().String(), k.implicit); ok {
			cfg.Listeners = append(cfg.Listeners, l)
		}
	}
	mux := http.NewServeMux()
	autoconfig.Register(mux, cfg)
	mux.Handle("/", h)
	return mux
}

// ready checks that the store and the blob store answer.
func ready(ctx context.Context, st store.Store, bl blob.Store) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if err := st.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if _, err := bl.List(ctx, "msg/", "", 1); err != nil {
		return fmt.Errorf("blobs: %w", err)
	}
	return nil
}

// refreshQueueDepth sets the queue gauges from the store, so that a scrape
// shows the depth across every process sharing the queue.
func refreshQueueDepth(ctx context.Context, q store.Queue, m *metrics.Metrics, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	for _, name := range []string{store.QueueInbound, store.QueueOutbound} {
		s, err := q.QueueStats(ctx, name)
		if err != nil {
			log.Warn("queue stats", slog.String("queue", name), slog.String("error", err.Error()))
			continue
		}
		m.QueueDepth.WithLabelValues(name, "pending").Set(float64(s.Pending))
		m.QueueDepth.WithLabelValues(name, "in_flight").Set(float64(s.InFlight))
		m.QueueDepth.WithLabelValues(name, "delayed").Set(float64(s.Delayed))
		m.QueueDepth.WithLabelValues(name, "dead").Set(float64(s.Dead))
	}
}

// searchBacklog is a store that keeps texts staged for its search index
// (sqlite.DB).
type searchBacklog interface {
	SearchBacklog(ctx context.Context) (int64, time.Time, error)
}

// refreshSearchBacklog sets the search lag gauges from a store that
// stages texts for its index (embedded); in the cloud the search.Writer
// sets them.
func refreshSearchBacklog(ctx context.Context, st store.Store, m *metrics.Metrics, log *slog.Logger) {
	sb, ok := st.(searchBacklog)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	n, oldest, err := sb.SearchBacklog(ctx)
	if err != nil {
		log.Warn("search backlog", slog.String("error", err.Error()))
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(time.Since(oldest).Seconds(), 0)
	}
	m.SearchPending.Set(float64(n))
	m.SearchPendingAge.Set(age)
}
