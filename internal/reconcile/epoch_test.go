package reconcile_test

import (
	"sync"
	"testing"

	"github.com/bucketmail/bucketmail/internal/reconcile"
)

// TestEpochFirstStartRace: the checkers of a fresh start (the reconciler
// and the snapshotter of each process) all check at once; one creates the
// epoch, the others wait for it, and none fails.
func TestEpochFirstStartRace(t *testing.T) {
	e := newEnv(t)
	const checkers = 8
	errs := make([]error, checkers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range checkers {
		ep := reconcile.NewEpoch(e.db, e.blobs, "host")
		wg.Go(func() {
			<-start
			errs[i] = ep.Check(e.ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("checker %d: %v", i, err)
		}
	}
	id, err := e.db.Checkpoint(e.ctx, reconcile.EpochName)
	if err != nil || id == "" {
		t.Fatalf("epoch = %q, %v", id, err)
	}
	if err := reconcile.NewEpoch(e.db, e.blobs, "later").Check(e.ctx); err != nil {
		t.Fatalf("a later check: %v", err)
	}
}
