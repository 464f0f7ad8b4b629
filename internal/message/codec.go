package message

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Marshal encodes s for the index (JSON, with the short keys of the struct
// tags). It cannot fail for a summary made by Parse.
func (s *Summary) Marshal() []byte {
	b, err := encode(s)
	if err != nil {
		// Only a Date that RFC 3339 cannot carry makes JSON fail.
		c := *s
		c.Date = time.Time{}
		b, _ = encode(&c)
	}
	return b
}

// encode is json.Marshal without HTML escaping: message ids and addresses
// are full of '<' and '>', which would each cost six bytes.
func encode(s *Summary) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Unmarshal decodes a summary made by Marshal.
func Unmarshal(b []byte) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("message: decoding summary: %w", err)
	}
	return &s, nil
}

// UnmarshalHeader decodes only the header block of a summary made by
// Marshal, and its real size: what serving BODY[HEADER...] needs, without
// building the envelope and body structure.
func UnmarshalHeader(b []byte) (header []byte, size int64, err error) {
	var s struct {
		Header     []byte `json:"h"`
		HeaderSize int64  `json:"hs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, 0, fmt.Errorf("message: decoding summary: %w", err)
	}
	return s.Header, s.HeaderSize, nil
}
