package auth

import (
	"runtime/debug"
	"sync"
	"time"
)

// releaseEvery is the least time between two returns of hash memory to
// the operating system: each is a full garbage collection.
const releaseEvery = 10 * time.Second

// memReleaser gives the memory of finished hashes back to the operating
// system. An argon2id verification allocates 19 MiB that is garbage when
// it returns; the Go runtime keeps freed pages for reuse and returns them
// only gradually, so a burst of logins would leave the process that much
// larger (times the concurrent hashes) for minutes, next to idle
// connections that cost about 20 KiB each. Once no hash runs, and at most
// once per every, free (debug.FreeOSMemory) runs on a goroutine of its own.
type memReleaser struct {
	every time.Duration
	free  func()

	mu      sync.Mutex
	running int         // hashes in progress
	timer   *time.Timer // a pending release, or nil
	last    time.Time   // of the last release
}

func newMemReleaser() *memReleaser {
	return &memReleaser{every: releaseEvery, free: debug.FreeOSMemory}
}

// start notes that a hash begins.
func (r *memReleaser) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running++
}

// done notes that a hash ended; after the last one a release is due, as
// soon as the previous one is every old.
func (r *memReleaser) done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running--
	if r.running > 0 || r.timer != nil {
		return
	}
	r.timer = time.AfterFunc(max(0, r.every-time.Since(r.last)), r.release)
}

func (r *memReleaser) release() {
	r.mu.Lock()
	r.timer = nil
	if r.running > 0 {
		r.mu.Unlock()
		return // the last of those hashes schedules the release again
	}
	r.last = time.Now()
	r.mu.Unlock()
	r.free()
}
