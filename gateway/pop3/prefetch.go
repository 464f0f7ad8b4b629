package pop3

import (
	"bytes"
	"context"
	"io"
)

// Read-ahead. POP3 clients download a maildrop with RETR 1, RETR 2, ...
// one after the other, and each RETR reads its object: from S3 that is a
// request's round trip per message in series. While one message is sent,
// the objects of the next few are read in parallel, so the next RETR
// finds its object already here. Only once two RETRs came in order, so a
// client that picks single messages costs no extra object read; one that
// stops after reading in order costs at most prefetchAhead reads it did
// not need. Bounded: at most prefetchAhead objects of at most prefetchMax
// bytes each, and prefetchBudget bytes in all, per session.
const (
	prefetchAhead  = 8
	prefetchMax    = 1 << 20
	prefetchBudget = 2 << 20
)

type prefetched struct {
	done chan struct{}
	data []byte
	err  error
}

// takePrefetched returns the object of message n (1-based) if it was read
// ahead, and forgets what was read ahead for n and the messages before it.
func (s *session) takePrefetched(ctx context.Context, n int) (io.Reader, bool) {
	p := s.ahead[n]
	for k := range s.ahead {
		if k <= n || k > n+prefetchAhead {
			delete(s.ahead, k)
		}
	}
	if p == nil {
		return nil, false
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, false
	}
	if p.err != nil || len(p.data) > prefetchMax {
		return nil, false // read it the usual way, which reports errors
	}
	return bytes.NewReader(p.data), true
}

// prefetch starts reading the objects of messages n+1 .. n+prefetchAhead
// that are not read ahead yet, not deleted and small enough.
func (s *session) prefetch(ctx context.Context, n int) {
	if s.ahead == nil {
		s.ahead = map[int]*prefetched{}
	}
	budget := int64(prefetchBudget)
	for k := n + 1; k <= n+prefetchAhead && k <= len(s.drop.msgs); k++ {
		e := &s.drop.msgs[k-1]
		if e.deleted || e.size > prefetchMax {
			continue
		}
		if budget -= e.size; budget < 0 {
			break
		}
		if _, ok := s.ahead[k]; ok {
			continue
		}
		p := &prefetched{done: make(chan struct{})}
		s.ahead[k] = p
		key := e.blobKey
		go func() {
			defer close(p.done)
			rc, err := s.srv.cfg.Blobs.Get(ctx, key, 0, -1)
			if err != nil {
				p.err = err
				return
			}
			defer rc.Close()
			p.data, p.err = io.ReadAll(io.LimitReader(rc, prefetchMax+1))
		}()
	}
}
