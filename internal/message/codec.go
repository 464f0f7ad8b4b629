package message

import (
	"encoding/json"
	"fmt"
	"time"
)

// Marshal encodes s for the index (JSON, with the short keys of the struct
// tags). It cannot fail for a summary made by Parse.
func (s *Summary) Marshal() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		// Only a Date that RFC 3339 cannot carry makes JSON fail.
		c := *s
		c.Date = time.Time{}
		b, _ = json.Marshal(&c)
	}
	return b
}

// Unmarshal decodes a summary made by Marshal.
func Unmarshal(b []byte) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("message: decoding summary: %w", err)
	}
	return &s, nil
}
