package redis

import (
	"context"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// subscribeWait bounds how long Watch waits for Redis to confirm its
// subscription; a Watch that gives up still works once it is confirmed.
const subscribeWait = 5 * time.Second

// hub fans the change notifications of one pub/sub connection per DB out to
// Watch channels. Every mutating script publishes on the user's channel
// (lua/prelude.lua touch), so a change by any process wakes every watcher.
// The hub subscribes to a user's channel while someone watches it.
type hub struct {
	rdb goredis.UniversalClient

	mu        sync.Mutex
	ps        *goredis.PubSub
	watchers  store.Watchers           // by channel
	confirmed map[string]chan struct{} // by watched channel: closed when Redis confirmed the subscription
	pending   map[string]int           // SUBSCRIBE commands sent and not yet confirmed, by channel
	closed    bool
	done      chan struct{} // closed when the receive loop ended
}

func newHub(rdb goredis.UniversalClient) *hub {
	return &hub{rdb: rdb, confirmed: map[string]chan struct{}{}, pending: map[string]int{}}
}

// Watch returns a channel that receives a value after any change to
// userID's mailboxes by any process. Watch returns once Redis confirmed the
// subscription, so no change made after it returns is missed. After a
// reconnection of the pub/sub connection (changes may have been missed
// meanwhile), every watcher receives a value.
func (db *DB) Watch(ctx context.Context, userID string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	if !validUserID(userID) {
		close(ch)
		return ch
	}
	h := db.watch
	channel := changesChannel(userID)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(ch)
		return ch
	}
	if h.watchers.Add(channel, ch) {
		h.confirmed[channel] = make(chan struct{})
		h.subscribe(channel)
	}
	confirmed := h.confirmed[channel]
	h.mu.Unlock()

	t := time.NewTimer(subscribeWait)
	select {
	case <-confirmed:
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	context.AfterFunc(ctx, func() { h.unwatch(channel, ch) })
	return ch
}

// subscribe sends SUBSCRIBE for channel, starting the connection and its
// receive loop at the first call. h.mu is held, so that SUBSCRIBE and
// UNSUBSCRIBE of one channel reach Redis in the order of the hub's state.
func (h *hub) subscribe(channel string) {
	h.pending[channel]++
	ctx, cancel := context.WithTimeout(context.Background(), subscribeWait)
	defer cancel()
	if h.ps == nil {
		h.ps = h.rdb.Subscribe(ctx, channel)
		h.done = make(chan struct{})
		go h.receive(h.ps.ChannelWithSubscriptions(goredis.WithChannelSize(256)))
		return
	}
	// An error leaves the channel in the PubSub's set: it is subscribed
	// again when the connection is re-established.
	_ = h.ps.Subscribe(ctx, channel)
}

func (h *hub) unwatch(channel string, ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	found, last := h.watchers.Remove(channel, ch)
	if !found {
		return // closed by close
	}
	if last {
		delete(h.confirmed, channel)
		ctx, cancel := context.WithTimeout(context.Background(), subscribeWait)
		_ = h.ps.Unsubscribe(ctx, channel)
		cancel()
	}
}

// receive dispatches messages until the PubSub is closed.
func (h *hub) receive(msgs <-chan any) {
	defer close(h.done)
	for m := range msgs {
		switch m := m.(type) {
		case *goredis.Message:
			h.notify(m.Channel, false)
		case *goredis.Subscription:
			if m.Kind == "subscribe" && strings.HasSuffix(m.Channel, ":changes") {
				h.notify(m.Channel, true)
			}
		}
	}
}

// notify wakes the watchers of channel. A subscription confirmation marks
// the channel confirmed once every SUBSCRIBE sent for it was answered; it
// also wakes the watchers, since changes may have been missed before (a
// spurious wake-up is harmless, a lost one is not).
func (h *hub) notify(channel string, confirm bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if confirm && h.pending[channel] > 0 {
		h.pending[channel]--
		if h.pending[channel] == 0 {
			delete(h.pending, channel)
		}
	}
	confirmed, ok := h.confirmed[channel]
	if !ok {
		return
	}
	if confirm && h.pending[channel] == 0 {
		select {
		case <-confirmed:
		default:
			close(confirmed)
		}
	}
	h.watchers.Notify(channel)
}

// close closes every Watch channel and the pub/sub connection.
func (h *hub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.watchers.CloseAll()
	clear(h.confirmed)
	ps, done := h.ps, h.done
	h.mu.Unlock()
	if ps != nil {
		ps.Close()
		<-done
	}
}
