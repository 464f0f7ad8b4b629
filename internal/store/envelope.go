package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// envelope is the envelope of a job as every driver stores it (JSON). The
// field names are the stored layout: renaming one loses queued jobs.
type envelope struct {
	BlobKey    string    `json:"blob"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	ReceivedAt time.Time `json:"received"`
	ClientIP   string    `json:"ip,omitempty"`
	Helo       string    `json:"helo,omitempty"`
	Auth       string    `json:"auth,omitempty"`
}

// EncodeEnvelope returns the envelope of j (blob key, sender, recipients,
// arrival, client IP, HELO, authenticated user) as drivers store it. The
// queue state (attempts, last error, not-before, State) is not part of it.
func EncodeEnvelope(j Job) ([]byte, error) {
	return json.Marshal(envelope{j.BlobKey, j.From, j.To, j.ReceivedAt, j.ClientIP, j.Helo, j.Auth})
}

// DecodeEnvelope sets the envelope fields of j from what EncodeEnvelope
// wrote.
func DecodeEnvelope(b []byte, j *Job) error {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	j.BlobKey, j.From, j.To, j.ReceivedAt, j.ClientIP, j.Helo, j.Auth =
		e.BlobKey, e.From, e.To, e.ReceivedAt, e.ClientIP, e.Helo, e.Auth
	return nil
}
