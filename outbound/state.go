package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// state is what an outbound job remembers across attempts, kept as JSON in
// the job's own state in the queue (store.Job.State): saved while the job
// is held, carried by Retry and Ack, and deleted with the job, so nothing
// grows per message. Recipients already delivered are recorded here and
// skipped on the next attempt.
type state struct {
	// Recipients done with remotely: delivered or failed for good.
	Rcpts map[string]rcptState `json:"rcpts,omitempty"`
	// Last temporary error per pending recipient, for the expiry and delay
	// notices.
	Deferred map[string]Result `json:"deferred,omitempty"`
	// LocalQueued: the inbound job for the local recipients exists.
	LocalQueued bool `json:"local,omitempty"`
	// DelayNotified: the one "delayed" DSN was sent.
	DelayNotified bool `json:"delayed,omitempty"`
	// DSNs written to the state before they are sent, so a crash in
	// between resends the same one (same id) instead of a second copy.
	DSNs []dsnRecord `json:"dsns,omitempty"`
	// First is the first attempt, the start of the lifetime when the job
	// has no ReceivedAt (a job rebuilt from damaged metadata).
	First time.Time `json:"first"`
	// Finished: every recipient is done and the job was acked; a job
	// enqueued again (the reconciler) is acked at once, not sent twice.
	Finished bool `json:"finished,omitempty"`
}

type rcptState struct {
	Result
	At       time.Time `json:"at"`
	Reported bool      `json:"reported,omitempty"` // a DSN covers this failure
}

// legacyPrefix starts the ledger checkpoints in which versions before the
// queue kept job state: read once as a fallback, then deleted (see
// migrateCheckpoints).
const legacyPrefix = "outbound/"

func legacyCheckpoint(id string) string { return legacyPrefix + id }

// loadState reads j's state; a job of an older version without one falls
// back to its ledger checkpoint, which moves into the queue at once.
func (s *Sender) loadState(ctx context.Context, j store.Job) (*state, error) {
	v := j.State
	if v == "" {
		var err error
		if v, err = s.moveCheckpoint(ctx, j); err != nil {
			return nil, err
		}
	}
	st := &state{}
	if v != "" {
		if err := json.Unmarshal([]byte(v), st); err != nil {
			// A broken record must not stop the job: start over, at worst
			// sending a recipient twice.
			s.log.Warn("broken outbound job state ignored", slog.String("id", j.ID), slog.String("error", err.Error()))
			st = &state{}
		}
	}
	if st.Rcpts == nil {
		st.Rcpts = map[string]rcptState{}
	}
	if st.Deferred == nil {
		st.Deferred = map[string]Result{}
	}
	return st, nil
}

// withState returns j carrying st, for SaveState, Retry and Ack.
func withState(j store.Job, st *state) (store.Job, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return j, err
	}
	j.State = string(b)
	return j, nil
}

// moveCheckpoint returns j's legacy checkpoint ("" if none), saved as
// j's state in the queue and deleted from the ledger.
func (s *Sender) moveCheckpoint(ctx context.Context, j store.Job) (string, error) {
	name := legacyCheckpoint(j.ID)
	v, err := s.cfg.Store.Checkpoint(ctx, name)
	if err != nil || v == "" {
		return "", wrapErr("reading checkpoint", err)
	}
	j.State = v
	if err := s.cfg.Store.SaveState(ctx, j); err != nil {
		return "", fmt.Errorf("saving job state: %w", err)
	}
	return v, wrapErr("deleting checkpoint", s.cfg.Store.DeleteCheckpoint(ctx, name))
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// saveState stores st as j's state in the queue while j is held.
func (s *Sender) saveState(ctx context.Context, j store.Job, st *state) error {
	j, err := withState(j, st)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.SaveState(ctx, j); err != nil {
		return fmt.Errorf("saving job state: %w", err)
	}
	return nil
}

// migrateCheckpoints deletes the legacy checkpoints of jobs no longer
// queued (finished before the upgrade); those of queued jobs are read
// once by their next attempt and deleted then.
func (s *Sender) migrateCheckpoints(ctx context.Context) error {
	names, err := s.cfg.Store.CheckpointNames(ctx, legacyPrefix)
	if err != nil || len(names) == 0 {
		return err
	}
	deleted := 0
	for _, name := range names {
		queued, err := s.cfg.Store.JobQueued(ctx, store.QueueOutbound, strings.TrimPrefix(name, legacyPrefix))
		if err != nil {
			return err
		}
		if queued {
			continue
		}
		if err := s.cfg.Store.DeleteCheckpoint(ctx, name); err != nil {
			return err
		}
		deleted++
	}
	s.log.Info("outbound checkpoints migrated", slog.Int("deleted", deleted), slog.Int("left_for_their_jobs", len(names)-deleted))
	return nil
}
