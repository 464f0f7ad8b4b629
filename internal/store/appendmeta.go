package store

import (
	"net/url"
	"strings"
	"time"
)

// Metadata of a message object written by IMAP APPEND. It has no delivery
// job (the reconciler skips it), but says where it went, so that reindex
// can put it back if the index lost it.
const (
	MetaOrigin   = "origin"
	OriginAppend = "append"
	MetaUser     = "user"    // user ID
	MetaMailbox  = "mailbox" // mailbox name at the time, path-escaped
	MetaDate     = "date"    // internal date, RFC 3339
	MetaFlags    = "flags"   // space-separated
)

// Appended is where an appended object went.
type Appended struct {
	UserID  string
	Mailbox string
	Date    time.Time
	Flags   []string
}

// AppendMeta returns the object metadata of an APPEND. Flags are atoms
// (RFC 9051 section 9), so printable ASCII; the mailbox name is escaped.
func AppendMeta(a Appended) map[string]string {
	m := map[string]string{
		MetaOrigin:  OriginAppend,
		MetaUser:    a.UserID,
		MetaMailbox: url.PathEscape(a.Mailbox),
		MetaDate:    a.Date.UTC().Format(time.RFC3339Nano),
	}
	if len(a.Flags) > 0 {
		m[MetaFlags] = strings.Join(a.Flags, " ")
	}
	return m
}

// AppendFromMeta reverses AppendMeta; ok is false for objects not written
// by APPEND or with unreadable metadata.
func AppendFromMeta(meta map[string]string) (a Appended, ok bool) {
	if meta[MetaOrigin] != OriginAppend || meta[MetaUser] == "" {
		return a, false
	}
	name, err := url.PathUnescape(meta[MetaMailbox])
	if err != nil {
		return a, false
	}
	a = Appended{UserID: meta[MetaUser], Mailbox: name, Flags: strings.Fields(meta[MetaFlags])}
	if d, err := time.Parse(time.RFC3339Nano, meta[MetaDate]); err == nil {
		a.Date = d
	}
	return a, true
}
