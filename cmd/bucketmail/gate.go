package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// gatedListener is a TCP listener that stops listening while the process is
// not ready (its stores do not answer) and listens again on the same address
// once they do. A load balancer that can only check the port it balances
// with a TCP connect (a Linode NodeBalancer's TCP configs) then takes the
// node out of rotation exactly when /readyz would fail.
type gatedListener struct {
	addr net.Addr

	mu     sync.Mutex
	ln     net.Listener  // nil while the gate is closed
	change chan struct{} // closed and replaced on every state change
	closed bool
}

func newGatedListener(ln net.Listener) *gatedListener {
	return &gatedListener{addr: ln.Addr(), ln: ln, change: make(chan struct{})}
}

// Accept waits for a connection while the gate is open; while it is shut it
// waits for the gate to open again.
func (g *gatedListener) Accept() (net.Conn, error) {
	for {
		g.mu.Lock()
		ln, change, closed := g.ln, g.change, g.closed
		g.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		if ln == nil {
			<-change
			continue
		}
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		g.mu.Lock()
		gated := g.ln != ln && !g.closed
		g.mu.Unlock()
		if !gated {
			return nil, err
		}
	}
}

// SetReady opens or shuts the gate.
func (g *gatedListener) SetReady(ready bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || ready == (g.ln != nil) {
		return nil
	}
	if ready {
		ln, err := net.Listen("tcp", g.addr.String())
		if err != nil {
			return err
		}
		g.ln = ln
	} else {
		_ = g.ln.Close()
		g.ln = nil
	}
	close(g.change)
	g.change = make(chan struct{})
	return nil
}

func (g *gatedListener) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	close(g.change)
	if g.ln != nil {
		return g.ln.Close()
	}
	return nil
}

func (g *gatedListener) Addr() net.Addr { return g.addr }

// gateInterval is how often the readiness gate checks the stores; a gate
// shuts after failThreshold failed checks in a row and opens after one
// good one.
const (
	gateInterval  = 5 * time.Second
	failThreshold = 2
)

// runGate checks readiness every interval and opens or shuts every gate,
// until ctx ends.
func runGate(ctx context.Context, gates []*gatedListener, check func(context.Context) error, interval time.Duration, log *slog.Logger) {
	if len(gates) == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	fails, shut := 0, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := check(ctx)
		if err != nil {
			fails++
		} else {
			fails = 0
		}
		want := fails >= failThreshold
		if want == shut {
			continue
		}
		var errs []error
		for _, g := range gates {
			errs = append(errs, g.SetReady(!want))
		}
		if e := errors.Join(errs...); e != nil {
			log.Error("readiness gate", slog.Bool("open", !want), slog.String("error", e.Error()))
			continue
		}
		shut = want
		if shut {
			log.Warn("not ready: protocol listeners closed until the stores answer", slog.String("error", err.Error()))
		} else {
			log.Info("ready again: protocol listeners reopened")
		}
	}
}
