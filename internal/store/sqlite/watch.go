package sqlite

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// pollInterval is how often the poller reads the change counters of the
// watched users, to see changes made by other processes.
const pollInterval = 150 * time.Millisecond

// hub fans change notifications out to Watch channels. Changes made through
// this DB signal at once; changes made by other processes (or other DBs on
// the same file) are seen by one poller goroutine per DB, which runs only
// while someone watches.
type hub struct {
	db *DB

	mu       sync.Mutex
	watchers store.Watchers   // by user ID
	counters map[string]int64 // by watched user: last change counter seen; -1 when unknown
	closed   bool
	running  bool
	stop     chan struct{}
	wg       sync.WaitGroup
}

func newHub(db *DB) *hub {
	return &hub{db: db, counters: map[string]int64{}, stop: make(chan struct{})}
}

// Watch returns a channel that receives a value after any change to
// userID's mailboxes, by any process, within about pollInterval.
func (db *DB) Watch(ctx context.Context, userID string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	counter, err := db.changeCounter(ctx, userID)
	if err != nil {
		counter = -1 // the first successful poll signals: a spurious wake-up is harmless, a lost one is not
	}
	h := db.watch
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch
	}
	if h.watchers.Add(userID, ch) {
		h.counters[userID] = counter
	}
	if !h.running {
		h.running = true
		h.wg.Add(1)
		go h.poll()
	}
	context.AfterFunc(ctx, func() { h.unwatch(userID, ch) })
	return ch
}

func (h *hub) unwatch(userID string, ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, last := h.watchers.Remove(userID, ch); last {
		delete(h.counters, userID)
	}
}

// signal wakes the watchers of userID after a commit that set the user's
// change counter to counter.
func (h *hub) signal(userID string, counter int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.counters[userID]
	if !ok {
		return
	}
	if counter > c {
		h.counters[userID] = counter // so that the poller does not wake them again for it
	}
	h.watchers.Notify(userID)
}

// poll runs until nobody watches or the DB is closed.
func (h *hub) poll() {
	defer h.wg.Done()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		ids := h.watchers.Keys()
		if len(ids) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		counters, err := h.db.changeCounters(ids)
		if err != nil {
			continue // try again at the next tick
		}
		h.mu.Lock()
		for _, id := range ids {
			if c, ok := h.counters[id]; ok && counters[id] != c {
				h.counters[id] = max(c, counters[id])
				h.watchers.Notify(id)
			}
		}
		h.mu.Unlock()
	}
}

// close closes every Watch channel and stops the poller.
func (h *hub) close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.stop)
		h.watchers.CloseAll()
		clear(h.counters)
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (db *DB) changeCounter(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, "SELECT coalesce(max(counter), 0) FROM changes WHERE user_id = ?", userID).Scan(&n)
	return n, err
}

// changeCounters reads the change counters of ids (0 for a user without
// changes yet).
func (db *DB) changeCounters(ids []string) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := make(map[string]int64, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
			out[id] = 0
		}
		rows, err := db.r.QueryContext(ctx, "SELECT user_id, counter FROM changes WHERE user_id IN ("+
			strings.Repeat(",?", n)[1:]+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var c int64
			if err := rows.Scan(&id, &c); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = c
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}
