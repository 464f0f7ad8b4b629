package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

func newTestProcess() *process {
	return &process{log: slog.New(slog.DiscardHandler)}
}

func TestProcessRunsUntilCancelled(t *testing.T) {
	p := newTestProcess()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.run(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("run returned before cancel: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after cancel = %v, want nil", err)
	}
}

func TestProcessWaitsForWorkerAfterClosingServers(t *testing.T) {
	p := newTestProcess()
	var order []string
	p.closers = []func() error{func() error { order = append(order, "close"); return nil }}
	p.worker = func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // finishing in-flight jobs
		order = append(order, "worker done")
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.run(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "close,worker done" {
		t.Errorf("shutdown order = %v", order)
	}
}

func TestProcessStopsWhenAServerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := newTestProcess()
	p.listeners = []boundListener{{name: "smtp", ln: ln, serve: func(net.Listener) error { return errors.New("boom") }}}
	closed := false
	p.closers = []func() error{func() error { closed = true; return nil }}
	err = p.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "smtp on 127.0.0.1:") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("run = %v, want the failure of smtp", err)
	}
	if !closed {
		t.Error("servers were not closed after a failure")
	}
}

func TestProcessStopsWhenTheWorkerFails(t *testing.T) {
	p := newTestProcess()
	p.worker = func(context.Context) error { return errors.New("store gone") }
	err := p.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "worker: store gone") {
		t.Errorf("run = %v, want the worker's failure", err)
	}
}
