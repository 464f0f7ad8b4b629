package message

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
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
// building the envelope and body structure. Marshal writes the keys in the
// order of Summary's fields, so "h" and "hs" come before "e": only that
// first part is read. Inside JSON strings quotes are escaped, so `,"hs":`
// there can only be the key; base64 has no quote. Anything else goes
// through the whole decoder.
func UnmarshalHeader(b []byte) (header []byte, size int64, err error) {
	e := bytes.Index(b, []byte(`,"e":`))
	if !bytes.HasPrefix(b, []byte(`{"s":`)) || e < 0 {
		return unmarshalHeaderAll(b)
	}
	head := b[:e]
	i := bytes.Index(head, []byte(`,"hs":`))
	if i < 0 {
		return unmarshalHeaderAll(b)
	}
	size, err = strconv.ParseInt(string(head[i+len(`,"hs":`):]), 10, 64)
	if err != nil {
		return unmarshalHeaderAll(b)
	}
	j := bytes.Index(head[:i], []byte(`,"h":"`))
	if j < 0 {
		return nil, size, nil // omitted when empty
	}
	enc := head[j+len(`,"h":"`) : i]
	if len(enc) == 0 || enc[len(enc)-1] != '"' {
		return unmarshalHeaderAll(b)
	}
	enc = enc[:len(enc)-1]
	header = make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(header, enc)
	if err != nil {
		return unmarshalHeaderAll(b)
	}
	return header[:n], size, nil
}

// unmarshalHeaderAll is UnmarshalHeader reading the whole summary, for
// what does not look like Marshal's output (and to report its error).
func unmarshalHeaderAll(b []byte) (header []byte, size int64, err error) {
	var s struct {
		Header     []byte `json:"h"`
		HeaderSize int64  `json:"hs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, 0, fmt.Errorf("message: decoding summary: %w", err)
	}
	return s.Header, s.HeaderSize, nil
}
