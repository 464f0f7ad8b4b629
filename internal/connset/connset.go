// Package connset keeps the listeners and open connections of a server, so
// that stopping the server reaches each of them: its accept loops end, its
// sessions are woken or closed, and Close returns once every session has.
package connset

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Set tracks listeners and connections. The zero value is ready to use.
type Set struct {
	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	sessions  sync.WaitGroup
}

// Serve accepts connections on ln until the set is stopped and runs handle
// for each in its own goroutine; the connection is closed and forgotten
// when handle returns. A temporary accept error (too many open files) is
// retried after a growing pause. Serve returns nil once the set is
// stopped, else the error that ended the loop.
func (s *Set) Serve(ln net.Listener, handle func(net.Conn)) error {
	if !s.add(ln) {
		ln.Close()
		return nil
	}
	defer s.remove(ln)
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.Stopped() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			return err
		}
		backoff = 5 * time.Millisecond
		if !s.addConn(c) {
			c.Close()
			return nil
		}
		go func() {
			defer s.sessions.Done()
			defer s.removeConn(c)
			defer c.Close()
			handle(c)
		}()
	}
}

// Stopped reports whether Stop (or Close) was called.
func (s *Set) Stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Stop closes every listener, so that no connection is accepted any more,
// and calls each for every open connection (to wake or close it). It
// returns the listeners' close errors.
func (s *Set) Stop(each func(net.Conn)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for c := range s.conns {
		each(c)
	}
	return errors.Join(errs...)
}

// Wait waits until every session has ended or ctx ends; it reports
// whether they all ended.
func (s *Set) Wait(ctx context.Context) bool {
	done := make(chan struct{})
	go func() {
		s.sessions.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// Close stops the set, closes every open connection and waits for the
// sessions to end.
func (s *Set) Close() error {
	err := s.Stop(func(c net.Conn) { c.Close() })
	s.sessions.Wait()
	return err
}

func (s *Set) add(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Set) remove(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

// addConn registers c and counts its session, unless the set is stopped.
func (s *Set) addConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.sessions.Add(1)
	return true
}

func (s *Set) removeConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}
