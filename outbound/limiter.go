package outbound

import (
	"context"
	"io"
	"strings"
	"sync"
)

// limiter bounds the sessions open at once to each destination host, so
// that a busy queue does not look like an attack to one receiver.
type limiter struct {
	n  int
	mu sync.Mutex
	by map[string]chan struct{}
}

func newLimiter(n int) *limiter { return &limiter{n: n, by: map[string]chan struct{}{}} }

// acquire waits for a free slot for host; release gives it back.
func (l *limiter) acquire(ctx context.Context, host string) (release func(), err error) {
	host = strings.ToLower(host)
	l.mu.Lock()
	ch, ok := l.by[host]
	if !ok {
		ch = make(chan struct{}, l.n)
		l.by[host] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// copyBody streams body to w, stopping when ctx ends.
func copyBody(ctx context.Context, w io.Writer, body Body) (int64, error) {
	return io.Copy(w, ctxReader{ctx: ctx, r: body.Reader()})
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
