package pop3

import "sync"

// lockMap holds the exclusive maildrop locks of one process (RFC 1939
// section 8: the server acquires an exclusive-access lock on the maildrop).
// Locking across gateway processes needs shared state and comes with the
// cloud drivers.
type lockMap struct {
	mu   sync.Mutex
	held map[string]bool
}

// tryLock takes the lock of key and reports whether it got it.
func (l *lockMap) tryLock(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] {
		return false
	}
	if l.held == nil {
		l.held = make(map[string]bool)
	}
	l.held[key] = true
	return true
}

// unlock releases the lock of key.
func (l *lockMap) unlock(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, key)
}
