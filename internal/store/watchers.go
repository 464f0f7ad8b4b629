package store

// Watchers is the fan-out half of a driver's Watch: the channels handed out,
// by key (a user, or the driver's name for the user's changes). How a
// driver learns of changes by other processes (Redis pub/sub, polling the
// SQLite change counters) is its own. Watchers does no locking: the
// driver's hub holds its lock around every call, together with the state
// of its change source. The zero value is empty and ready.
type Watchers struct {
	m map[string]map[chan struct{}]struct{}
}

// Add registers ch under key and reports whether it is key's first
// watcher (the driver then starts listening for key).
func (w *Watchers) Add(key string, ch chan struct{}) (first bool) {
	if w.m == nil {
		w.m = map[string]map[chan struct{}]struct{}{}
	}
	set := w.m[key]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		w.m[key] = set
	}
	set[ch] = struct{}{}
	return len(set) == 1
}

// Remove closes ch and removes it from key. found is false when ch is not
// there (closed already, by Remove or CloseAll); last reports that key has
// no watcher left (the driver then stops listening for it).
func (w *Watchers) Remove(key string, ch chan struct{}) (found, last bool) {
	set := w.m[key]
	if _, ok := set[ch]; !ok {
		return false, false
	}
	delete(set, ch)
	close(ch)
	if len(set) == 0 {
		delete(w.m, key)
		return true, true
	}
	return true, false
}

// Notify gives every watcher of key a value without blocking: a value
// still pending stands for any number of changes.
func (w *Watchers) Notify(key string) {
	for ch := range w.m[key] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Keys returns the keys that have watchers, in no order.
func (w *Watchers) Keys() []string {
	out := make([]string, 0, len(w.m))
	for k := range w.m {
		out = append(out, k)
	}
	return out
}

// CloseAll closes every channel and forgets every key.
func (w *Watchers) CloseAll() {
	for key, set := range w.m {
		for ch := range set {
			close(ch)
		}
		delete(w.m, key)
	}
}
