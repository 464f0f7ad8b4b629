package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// shutdownContext bounds the graceful shutdown by --shutdown-timeout.
func (p *process) shutdownContext() (context.Context, context.CancelFunc) {
	d := p.shutdownTimeout
	if d <= 0 {
		d = defaultShutdownTimeout
	}
	return context.WithTimeout(context.Background(), d)
}

// stopServers shuts every server down gracefully at once (SMTP
// transactions finish, IMAP sessions get BYE, POP3 sessions -ERR), each
// bounded by ctx, then closes the ones that only know Close.
func (p *process) stopServers(ctx context.Context) {
	var wg sync.WaitGroup
	for _, stop := range p.stoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := stop(ctx); err != nil {
				p.log.Warn("stopping server", slog.String("error", err.Error()))
			}
		}()
	}
	wg.Wait()
	for _, c := range p.closers {
		if err := c(); err != nil {
			p.log.Warn("closing server", slog.String("error", err.Error()))
		}
	}
}

// watchTLS reloads the certificate files when they change and on SIGHUP,
// until the returned function is called. SIGHUP is caught in every role,
// so that it never kills the process.
func (p *process) watchTLS(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if p.tls == nil {
					p.log.Info("SIGHUP: nothing to reload")
					continue
				}
				p.log.Info("SIGHUP: reloading the TLS certificate")
				_ = p.tls.Reload() // a failure is logged and the old pair kept
			}
		}
	}()
	if p.tls != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			interval := p.tlsPoll
			if interval <= 0 {
				interval = tlsPollInterval
			}
			p.tls.Watch(ctx, interval)
		}()
	}
	return func() {
		signal.Stop(hup)
		cancel()
		wg.Wait()
	}
}

// tlsPollInterval is how often the certificate files are checked.
const tlsPollInterval = 3 * time.Second
