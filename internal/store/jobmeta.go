package store

import (
	"fmt"
	"strings"
	"time"
)

// Metadata keys of a message object: the envelope of its job (invariant 2).
const (
	MetaQueueID  = "queue-id"
	MetaQueue    = "queue"
	MetaFrom     = "from"
	MetaTo       = "to"
	MetaReceived = "received"
	MetaClientIP = "client-ip"
	MetaHelo     = "helo"
	MetaAuth     = "auth"
)

// nullAddress stands for the empty string, so that no value is empty (S3
// may drop empty metadata) and the null sender survives.
const nullAddress = "<>"

// JobMeta returns the envelope of j as blob metadata. Values are printable
// ASCII: addresses, HELO and client IP are percent-encoded (any byte
// outside [A-Za-z0-9@.+=_-] becomes %XX), so that quoted local parts and
// SMTPUTF8 addresses (RFC 6531) round-trip; "to" is a comma-separated list.
// Attempts, LastError and NotBefore are queue state, not envelope, and are
// left out.
func JobMeta(j Job) map[string]string {
	to := make([]string, len(j.To))
	for i, a := range j.To {
		to[i] = encodeMeta(a)
	}
	m := map[string]string{
		MetaQueueID:  encodeMeta(j.ID),
		MetaQueue:    encodeMeta(j.Queue),
		MetaFrom:     encodeMeta(j.From),
		MetaTo:       strings.Join(to, ","),
		MetaReceived: j.ReceivedAt.UTC().Format(time.RFC3339Nano),
	}
	if j.ClientIP != "" {
		m[MetaClientIP] = encodeMeta(j.ClientIP)
	}
	if j.Helo != "" {
		m[MetaHelo] = encodeMeta(j.Helo)
	}
	if j.Auth != "" {
		m[MetaAuth] = encodeMeta(j.Auth)
	}
	return m
}

// JobFromMeta rebuilds the job of the object key from its metadata (see
// JobMeta). A missing queue id is taken from a key msg/<id>. Malformed
// metadata gives an error wrapping ErrInvalid.
func JobFromMeta(key string, meta map[string]string) (Job, error) {
	bad := func(field string, err error) (Job, error) {
		return Job{}, fmt.Errorf("store: metadata of %q: %s: %v: %w", key, field, err, ErrInvalid)
	}
	j := Job{BlobKey: key}
	var err error
	fields := []struct {
		key string
		dst *string
	}{{MetaQueueID, &j.ID}, {MetaQueue, &j.Queue}, {MetaFrom, &j.From},
		{MetaClientIP, &j.ClientIP}, {MetaHelo, &j.Helo}, {MetaAuth, &j.Auth}}
	for _, f := range fields {
		if v, ok := meta[f.key]; ok {
			if *f.dst, err = decodeMeta(v); err != nil {
				return bad(f.key, err)
			}
		}
	}
	if fromKey, ok := strings.CutPrefix(key, "msg/"); ok {
		if j.ID == "" {
			j.ID = fromKey
		} else if j.ID != fromKey {
			return bad(MetaQueueID, fmt.Errorf("%q does not match the key", j.ID))
		}
	}
	if j.ID == "" {
		return bad(MetaQueueID, fmt.Errorf("missing"))
	}
	if j.Queue == "" {
		j.Queue = QueueInbound
	}
	if v := meta[MetaTo]; v != "" {
		for _, enc := range strings.Split(v, ",") {
			a, err := decodeMeta(enc)
			if err != nil {
				return bad(MetaTo, err)
			}
			j.To = append(j.To, a)
		}
	}
	if v, ok := meta[MetaReceived]; ok {
		if j.ReceivedAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return bad(MetaReceived, err)
		}
	}
	return j, nil
}

const hexDigits = "0123456789ABCDEF"

// encodeMeta percent-encodes s for a metadata value; "" becomes "<>".
func encodeMeta(s string) string {
	if s == "" {
		return nullAddress
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if metaSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func metaSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("@.+=_-", c) >= 0
}

// decodeMeta reverses encodeMeta, strictly: only its output is accepted.
func decodeMeta(v string) (string, error) {
	if v == nullAddress {
		return "", nil
	}
	if v == "" {
		return "", fmt.Errorf("empty value")
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '%' {
			if !metaSafe(c) {
				return "", fmt.Errorf("unexpected %q", c)
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(v) {
			return "", fmt.Errorf("truncated escape")
		}
		hi, lo := strings.IndexByte(hexDigits, v[i+1]), strings.IndexByte(hexDigits, v[i+2])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("bad escape %q", v[i:i+3])
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), nil
}
