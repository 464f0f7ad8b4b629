package sqlite

import (
	"context"
	"strings"
	"sync"
	"time"
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

	mu      sync.Mutex
	users   map[string]*watched
	closed  bool
	running bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// watched is the state of one watched user.
type watched struct {
	counter int64 // last change counter seen; -1 when unknown
	chans   map[chan struct{}]struct{}
}

func newHub(db *DB) *hub {
	return &hub{db: db, users: map[string]*watched{}, stop: make(chan struct{})}
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
	w := h.users[userID]
	if w == nil {
		w = &watched{counter: counter, chans: map[chan struct{}]struct{}{}}
		h.users[userID] = w
	}
	w.chans[ch] = struct{}{}
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
	w := h.users[userID]
	if w == nil {
		return // closed by close
	}
	if _, ok := w.chans[ch]; !ok {
		return
	}
	delete(w.chans, ch)
	close(ch)
	if len(w.chans) == 0 {
		delete(h.users, userID)
	}
}

// signal wakes the watchers of userID after a commit that set the user's
// change counter to counter.
func (h *hub) signal(userID string, counter int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.users[userID]
	if w == nil {
		return
	}
	if counter > w.counter {
		w.counter = counter // so that the poller does not wake them again for it
	}
	w.notify()
}

func (w *watched) notify() {
	for ch := range w.chans {
		select {
		case ch <- struct{}{}:
		default: // a pending value stands for any number of changes
		}
	}
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
		ids := make([]string, 0, len(h.users))
		for id := range h.users {
			ids = append(ids, id)
		}
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
			w := h.users[id]
			if w != nil && counters[id] != w.counter {
				w.counter = max(w.counter, counters[id])
				w.notify()
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
		for id, w := range h.users {
			for ch := range w.chans {
				close(ch)
			}
			delete(h.users, id)
		}
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
