package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// serveGated accepts on g until it is closed, greeting every connection.
func serveGated(t *testing.T, g *gatedListener) chan error {
	done := make(chan error, 1)
	go func() {
		for {
			c, err := g.Accept()
			if err != nil {
				done <- err
				return
			}
			_, _ = io.WriteString(c, "hello\r\n")
			_ = c.Close()
		}
	}()
	return done
}

func greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	return err == nil && string(b) == "hello\r\n"
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGatedListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := newGatedListener(ln)
	done := serveGated(t, g)
	addr := g.Addr().String()
	if !greets(addr) {
		t.Fatal("open gate: no greeting")
	}
	if err := g.SetReady(false); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("shut gate: a connection was accepted by the kernel")
	}
	if err := g.SetReady(true); err != nil {
		t.Fatal(err)
	}
	if !greets(addr) {
		t.Fatal("reopened gate: no greeting on the same address")
	}
	if err := g.SetReady(false); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after Close of a shut gate")
	}
}

func TestRunGate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := newGatedListener(ln)
	defer g.Close()
	serveGated(t, g)
	var failing atomic.Bool
	check := func(context.Context) error {
		if failing.Load() {
			return errors.New("store: connection refused")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go runGate(ctx, []*gatedListener{g}, check, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	addr := g.Addr().String()
	if !greets(addr) {
		t.Fatal("ready: no greeting")
	}
	failing.Store(true)
	waitFor(t, "listener closed while the stores fail", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	failing.Store(false)
	waitFor(t, "listener open again once the stores answer", func() bool { return greets(addr) })
}
