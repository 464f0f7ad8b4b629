package connset

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestCloseEndsEverything: Close stops the accept loop (Serve returns
// nil), closes the open connections and returns after their handlers.
func TestCloseEndsEverything(t *testing.T) {
	var s Set
	ln := listen(t)
	handled := make(chan struct{})
	ended := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- s.Serve(ln, func(c net.Conn) {
			close(handled)
			_, _ = io.Copy(io.Discard, c) // until Close closes c
			close(ended)
		})
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-handled
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	default:
		t.Fatal("Close returned before the handler ended")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after Close", err)
	}
	if !s.Stopped() {
		t.Error("Stopped = false after Close")
	}
	// A listener served after Close is closed at once.
	ln2 := listen(t)
	if err := s.Serve(ln2, func(net.Conn) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := ln2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a listener served after Close = %v", err)
	}
}

// TestStopWakesAndWaits: Stop calls each for the open connections without
// closing them; Wait reports when the handlers are done or ctx ends.
func TestStopWakesAndWaits(t *testing.T) {
	var s Set
	ln := listen(t)
	handled := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = s.Serve(ln, func(net.Conn) {
			close(handled)
			<-release
		})
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-handled
	woken := 0
	if err := s.Stop(func(net.Conn) { woken++ }); err != nil {
		t.Fatal(err)
	}
	if woken != 1 {
		t.Errorf("Stop called each %d times, want 1", woken)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if s.Wait(ctx) {
		t.Error("Wait reported done while a handler runs")
	}
	close(release)
	if !s.Wait(context.Background()) {
		t.Error("Wait did not report the handler done")
	}
}
