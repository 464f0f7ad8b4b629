package fs

import "sync"

// Coalesced directory syncs. A Put is durable only once its directory is
// fsynced after the rename, and concurrent Puts mostly rename into the
// same directory: one fsync that starts after all their renames makes all
// of them durable. A caller waits for a sync that began after it asked
// (one already running may have missed its rename), and whoever finds
// none running starts it, so there is never more than one sync of a
// directory at a time and each covers everyone who asked before it.

type dirSyncer struct {
	mu      sync.Mutex
	cond    sync.Cond
	running bool
	started uint64 // syncs begun
	done    uint64 // the last sync finished
	err     error  // its result
}

// syncDirShared makes the entries of dir durable, sharing the fsync with
// concurrent callers for the same directory.
func (s *Store) syncDirShared(dir string) error {
	v, ok := s.syncers.Load(dir)
	if !ok {
		d := &dirSyncer{}
		d.cond.L = &d.mu
		v, _ = s.syncers.LoadOrStore(dir, d)
	}
	return v.(*dirSyncer).sync(dir)
}

func (d *dirSyncer) sync(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	need := d.started + 1
	for d.done < need {
		if d.running {
			d.cond.Wait()
			continue
		}
		d.running = true
		d.started++
		seq := d.started
		d.mu.Unlock()
		err := syncDir(dir)
		d.mu.Lock()
		d.running = false
		d.done, d.err = seq, err
		d.cond.Broadcast()
	}
	return d.err
}
