package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// The epoch ties an index store to its bucket: a random id kept both in
// the ledger (checkpoint EpochName) and in the object EpochKey. An index
// store that lost everything (a Redis FLUSHALL, a deleted SQLite file)
// has no epoch while the bucket has one. The reconciler, the collector and
// the snapshotter then stop: re-enqueueing every object for users the
// empty directory does not know would schedule them for deletion, and a
// snapshot of the empty index would become the newest. `bucketmail
// reindex` restores the index and adopts the bucket's epoch.
const (
	EpochName = "epoch"
	EpochKey  = "idx/epoch"
)

// ErrIndexLost means the index store has lost its data (or is not the
// index of this bucket) and must be rebuilt with `bucketmail reindex`.
var ErrIndexLost = errors.New("reconcile: the index store has no record of this bucket (lost data?): run bucketmail reindex")

// epochLease serializes the creation of a new epoch.
const epochLease = "epoch"

// epochWait bounds how long a checker waits for another one creating the
// epoch (the reconciler and the snapshotter of a fresh start race to it),
// and epochPoll is how often it looks meanwhile.
const (
	epochWait = 30 * time.Second
	epochPoll = 50 * time.Millisecond
)

// Epoch checks the epoch of an index store against its bucket, and creates
// one for a new installation (neither has one). It remembers the epoch it
// verified, so that later checks cost one ledger read.
type Epoch struct {
	st     store.Ledger
	blobs  blob.Store
	holder string

	mu       sync.Mutex
	verified string
}

// NewEpoch returns a checker for st and blobs; holder names it in the
// lease taken while creating an epoch. Each checker gets a holder of its
// own: the reconciler and the snapshotter of one process share a holder
// name, and a lease renewed by "the same" holder would let both create an
// epoch at once.
func NewEpoch(st store.Ledger, blobs blob.Store, holder string) *Epoch {
	return &Epoch{st: st, blobs: blobs, holder: holder + "/" + ulid.Make().String()}
}

// Check returns nil if the store and the bucket agree, ErrIndexLost if the
// store lost its epoch or has another one, or a storage error.
func (e *Epoch) Check(ctx context.Context) error {
	mine, err := e.st.Checkpoint(ctx, EpochName)
	if err != nil {
		return fmt.Errorf("reconcile: epoch: %w", err)
	}
	e.mu.Lock()
	ok := mine != "" && mine == e.verified
	e.mu.Unlock()
	if ok {
		return nil
	}
	theirs, err := readEpoch(ctx, e.blobs)
	if err != nil {
		return err
	}
	switch {
	case mine != "" && theirs == mine:
	case mine != "" && theirs == "":
		err = writeEpoch(ctx, e.blobs, mine) // the bucket predates epochs
	case mine == "" && theirs == "":
		mine, err = e.create(ctx)
	default:
		return ErrIndexLost
	}
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.verified = mine
	e.mu.Unlock()
	return nil
}

// create makes the epoch of a new installation, under a lease so that two
// processes starting together agree on one. A checker that finds the
// lease taken waits for the holder's epoch instead of failing.
func (e *Epoch) create(ctx context.Context) (string, error) {
	ok, err := e.st.TryLease(ctx, epochLease, e.holder, time.Minute)
	if err != nil {
		return "", fmt.Errorf("reconcile: epoch: %w", err)
	}
	if !ok {
		return e.awaitOther(ctx)
	}
	mine, err := e.st.Checkpoint(ctx, EpochName)
	if err != nil || mine != "" {
		return mine, err // created meanwhile; the next check compares it
	}
	id := ulid.Make().String()
	// The ledger first: a crash before the bucket write is healed by the
	// next check ("the bucket predates epochs").
	if err := e.st.SetCheckpoint(ctx, EpochName, id); err != nil {
		return "", fmt.Errorf("reconcile: epoch: %w", err)
	}
	return id, writeEpoch(ctx, e.blobs, id)
}

// awaitOther waits up to epochWait for the epoch another checker is
// creating. The ledger is written first (see create), so seeing it there
// is enough; the bucket copy follows, or the next check heals it.
func (e *Epoch) awaitOther(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, epochWait)
	defer cancel()
	t := time.NewTicker(epochPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", errors.New("reconcile: epoch: another process is creating it and has not finished")
		case <-t.C:
		}
		mine, err := e.st.Checkpoint(ctx, EpochName)
		if err != nil {
			return "", fmt.Errorf("reconcile: epoch: %w", err)
		}
		if mine != "" {
			return mine, nil
		}
	}
}

// AdoptEpoch makes the store's epoch the bucket's (creating one if the
// bucket has none); reindex calls it once the index is rebuilt.
func AdoptEpoch(ctx context.Context, st store.Ledger, blobs blob.Store) error {
	id, err := readEpoch(ctx, blobs)
	if err != nil {
		return err
	}
	if id == "" {
		id = ulid.Make().String()
		if err := writeEpoch(ctx, blobs, id); err != nil {
			return err
		}
	}
	if err := st.SetCheckpoint(ctx, EpochName, id); err != nil {
		return fmt.Errorf("reconcile: epoch: %w", err)
	}
	return nil
}

func readEpoch(ctx context.Context, blobs blob.Store) (string, error) {
	rc, err := blobs.Get(ctx, EpochKey, 0, 64)
	if errors.Is(err, blob.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reconcile: read %s: %w", EpochKey, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return "", fmt.Errorf("reconcile: read %s: %w", EpochKey, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeEpoch(ctx context.Context, blobs blob.Store, id string) error {
	if _, err := blobs.Put(ctx, EpochKey, bytes.NewReader([]byte(id+"\n")), nil); err != nil {
		return fmt.Errorf("reconcile: write %s: %w", EpochKey, err)
	}
	return nil
}
