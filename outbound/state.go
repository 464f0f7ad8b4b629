package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// state is what an outbound job remembers across attempts, kept as JSON in
// the ledger checkpoint "outbound/<queue id>". The queue cannot hold it:
// Retry persists neither a changed Job.To nor anything else of the job
// (the SQLite driver updates only state, not_before and last_error; the
// Redis one likewise), so recipients already delivered are recorded here
// and skipped on the next attempt.
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
	// DSNs written to the checkpoint before they are sent, so a crash in
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

func checkpointName(id string) string { return "outbound/" + id }

func (s *Sender) loadState(ctx context.Context, id string) (*state, error) {
	v, err := s.cfg.Store.Checkpoint(ctx, checkpointName(id))
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	st := &state{}
	if v != "" {
		if err := json.Unmarshal([]byte(v), st); err != nil {
			// A broken record must not stop the job: start over, at worst
			// sending a recipient twice.
			s.log.Warn("broken outbound checkpoint ignored", "id", id, "error", err.Error())
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

func (s *Sender) saveState(ctx context.Context, id string, st *state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.SetCheckpoint(ctx, checkpointName(id), string(b)); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	return nil
}
