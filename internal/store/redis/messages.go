package redis

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// encodeBody packs the parts of an entry that scripts never look at.
func encodeBody(m store.NewMessage) []byte {
	b := make([]byte, 0, len(m.Prefix)+len(m.Summary)+2*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, uint64(len(m.Prefix)))
	b = append(b, m.Prefix...)
	b = binary.AppendVarint(b, m.InternalDate.UnixNano())
	return append(b, m.Summary...)
}

func decodeBody(b []byte, m *store.Message) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return fmt.Errorf("message %d: bad entry", m.UID)
	}
	b = b[k:]
	m.Prefix, b = b[:n:n], b[n:]
	date, k := binary.Varint(b)
	if k <= 0 {
		return fmt.Errorf("message %d: bad date", m.UID)
	}
	m.InternalDate = time.Unix(0, date).UTC()
	m.Summary = b[k:]
	return nil
}

// parseHead splits a head "modseq\nsize\nblobkey\nflags\ndate" and its
// optional "\nsave" (seconds after the internal date's second) and
// "\nemailid" into m. Without a save date, m.SaveDate is the internal
// date; without an email ID, m.EmailID stays empty (see emailIDs).
func parseHead(h string, m *store.Message) error {
	parts := strings.SplitN(h, "\n", 7)
	if len(parts) < 5 {
		return fmt.Errorf("message %d: bad head", m.UID)
	}
	var err1, err2, err3, err4 error
	var date, save int64
	m.ModSeq, err1 = strconv.ParseUint(parts[0], 10, 64)
	m.Size, err2 = strconv.ParseInt(parts[1], 10, 64)
	date, err3 = strconv.ParseInt(parts[4], 10, 64)
	m.InternalDate = time.Unix(0, date).UTC()
	m.SaveDate = m.InternalDate
	if len(parts) > 5 {
		save, err4 = strconv.ParseInt(parts[5], 10, 64)
		m.SaveDate = time.Unix(floorDiv(date, 1e9)+save, 0).UTC()
	}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return fmt.Errorf("message %d: bad head", m.UID)
	}
	if len(parts) > 6 {
		m.EmailID = parts[6]
	}
	m.BlobKey, m.Flags = parts[2], store.DecodeFlags(parts[3])
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// emailIDs says how the messages of a mailbox without an email ID of
// their own derive it: from the mailbox's ID, or below split from base
// (the 'eb' and 'es' fields; see keys.go).
type emailIDs struct {
	id, base string
	split    uint32
}

func newEmailIDs(id, eb, es string) emailIDs {
	n, _ := strconv.ParseUint(es, 10, 32)
	return emailIDs{id: id, base: eb, split: uint32(n)}
}

// fill sets m.EmailID if the head had none.
func (e emailIDs) fill(m *store.Message) {
	switch {
	case m.EmailID != "":
	case e.base != "" && m.UID < e.split:
		m.EmailID = store.EmailIDOf(e.base, m.UID)
	default:
		m.EmailID = store.EmailIDOf(e.id, m.UID)
	}
}

// mailboxArgs checks userID and mailboxID; a malformed mailbox ID is simply
// not found (it cannot name one of our keys).
func mailboxArgs(userID, mailboxID string) error {
	if err := checkUser(userID); err != nil {
		return err
	}
	if !validMailboxID(mailboxID) {
		return errorf(store.ErrNotFound, "mailbox id %q", mailboxID)
	}
	return nil
}

// InsertMessage adds m to mailboxID with the next UID; idemKey makes it
// idempotent (invariant 3): the key is recorded by the same script. The
// blob reference is counted before the script and given back if it stored
// nothing (see refs.go).
func (db *DB) InsertMessage(ctx context.Context, userID, mailboxID, idemKey string, m store.NewMessage) (uint32, bool, error) {
	m.IdemKey = idemKey
	uids, dup, err := db.insert(ctx, "insert message", userID, mailboxID, true, []store.NewMessage{m})
	if err != nil {
		return 0, false, err
	}
	return uids[0], dup, nil
}

// InsertMessages adds ms to mailboxID with the next UIDs in one script
// (MULTIAPPEND, RFC 3502), with their idempotency keys.
func (db *DB) InsertMessages(ctx context.Context, userID, mailboxID string, ms []store.NewMessage) ([]uint32, error) {
	if err := store.CheckIdemKeys(ms); err != nil {
		return nil, wrap("insert messages", err)
	}
	if len(ms) == 0 {
		// Nothing to insert; the mailbox must exist all the same.
		if err := mailboxArgs(userID, mailboxID); err != nil {
			return nil, wrap("insert messages", err)
		}
		_, err := db.Messages(ctx, userID, mailboxID, math.MaxUint32, math.MaxUint32, 0)
		return nil, err
	}
	uids, _, err := db.insert(ctx, "insert messages", userID, mailboxID, false, ms)
	return uids, err
}

// insert runs insert.lua for ms. A used idempotency key makes it return
// dup with the earlier UID (orDup, for one message), else ErrExists.
func (db *DB) insert(ctx context.Context, op, userID, mailboxID string, orDup bool, ms []store.NewMessage) ([]uint32, bool, error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return nil, false, wrap(op, err)
	}
	dupMode := "0"
	if orDup {
		dupMode = "1"
	}
	args := []any{userPrefix(userID), mailboxID, dupMode, len(ms)}
	keys := make([]string, 0, len(ms))
	for _, m := range ms {
		err := store.CheckNewMessage(m)
		if err == nil && strings.ContainsFunc(m.BlobKey, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			err = errorf(store.ErrInvalid, "message blob %q", m.BlobKey)
		}
		if err != nil {
			return nil, false, wrap(op, err)
		}
		flags, err := store.NormalizeFlags(m.Flags)
		if err != nil {
			return nil, false, wrap(op, err)
		}
		if m.InternalDate.IsZero() {
			m.InternalDate = time.Now() // IMAP needs one (RFC 9051 section 2.3.3)
		}
		seen := "0"
		if slices.Contains(flags, store.FlagSeen) {
			seen = "1"
		}
		args = append(args, m.Size, m.BlobKey, strings.Join(flags, " "), seen, encodeBody(m), m.InternalDate.UnixNano(), m.IdemKey)
		keys = append(keys, m.BlobKey)
	}
	if err := db.ref(ctx, keys); err != nil {
		return nil, false, wrap(op, err)
	}
	v, err := db.run(ctx, scripts.insert, userMeta(userID), args...).Int64Slice()
	if err != nil || v[0] == 1 {
		// Nothing stored: give the references back. An error of the
		// script itself may hide a commit (a timeout after it ran);
		// keeping the references then only leaks, never loses, objects.
		if err == nil || !isUncertain(err) {
			if _, uerr := db.unref(ctx, keys); uerr != nil && err == nil {
				err = uerr
			}
		}
	}
	if err != nil {
		return nil, false, wrap(op, err)
	}
	uids := make([]uint32, 0, len(v)-1)
	for _, u := range v[1:] {
		uids = append(uids, uint32(u))
	}
	return uids, v[0] == 1, nil
}

// isUncertain reports whether err leaves open whether a script ran: only
// the script's own error replies prove it changed nothing.
func isUncertain(err error) bool {
	for _, e := range scriptErrors {
		if strings.HasPrefix(err.Error(), e.code) {
			return false
		}
	}
	return !strings.HasPrefix(err.Error(), errRetry)
}

// bodyChunk is how many bodies one HMGET fetches.
const bodyChunk = 500

// Messages returns the messages of mailboxID with first <= UID <= last
// (no upper bound when last is 0) and ModSeq > changedSince, in UID order.
// The heads (flags, modseq) are read in one script, so they are consistent;
// the bodies follow in pipelined HMGETs. A message expunged between the two
// reads is left out, as if the listing had happened after the expunge.
func (db *DB) Messages(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	out, fields, err := db.heads(ctx, userID, mailboxID, first, last, changedSince)
	if err != nil {
		return nil, wrap("messages", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	bodies, err := db.bodies(ctx, userPrefix(userID)+":mb:"+mailboxID+":b", fields)
	if err != nil {
		return nil, wrap("messages", err)
	}
	kept := out[:0]
	for i := range out {
		if bodies[i] == nil {
			continue // expunged meanwhile
		}
		if err := decodeBody(bodies[i], &out[i]); err != nil {
			return nil, wrap("messages", err)
		}
		kept = append(kept, out[i])
	}
	return kept, nil
}

// heads reads the heads (UID, modseq, size, object key, flags) of the
// messages Messages lists, in one script, and their body field names.
func (db *DB) heads(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, []string, error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return nil, nil, err
	}
	upper := "+inf"
	if last != 0 {
		upper = strconv.FormatUint(uint64(last), 10)
	}
	v, err := db.run(ctx, scripts.messages, userMeta(userID), userPrefix(userID), mailboxID,
		first, upper, changedSince).StringSlice()
	if err != nil {
		return nil, nil, err
	}
	if len(v) < 2 {
		return nil, nil, fmt.Errorf("short script reply")
	}
	ids := newEmailIDs(mailboxID, v[0], v[1])
	out := make([]store.Message, 0, len(v)/2)
	fields := make([]string, 0, len(v)/2)
	for i := 2; i+2 <= len(v); i += 2 {
		var m store.Message
		uid, err := strconv.ParseUint(v[i], 10, 32)
		if err != nil {
			return nil, nil, fmt.Errorf("uid %q", v[i])
		}
		m.UID = uint32(uid)
		if err := parseHead(v[i+1], &m); err != nil {
			return nil, nil, err
		}
		ids.fill(&m)
		out = append(out, m)
		fields = append(fields, v[i])
	}
	return out, fields, nil
}

// SeenUIDs reads the heads (flags) of the mailbox's messages, not their
// bodies.
func (db *DB) SeenUIDs(ctx context.Context, userID, mailboxID string, seen bool) ([]uint32, error) {
	hs, _, err := db.heads(ctx, userID, mailboxID, 1, 0, 0)
	if err != nil {
		return nil, wrap("seen uids", err)
	}
	out := []uint32{}
	for _, m := range hs {
		if slices.Contains(m.Flags, store.FlagSeen) == seen {
			out = append(out, m.UID)
		}
	}
	return out, nil
}

// MessageHeads is Messages without prefixes and summaries: the heads alone
// (one script), which carry the internal date too.
func (db *DB) MessageHeads(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	out, _, err := db.heads(ctx, userID, mailboxID, first, last, changedSince)
	if err != nil {
		return nil, wrap("message heads", err)
	}
	return out, nil
}

// bodies reads the fields of hash key in pipelined chunks; a missing field
// is nil.
func (db *DB) bodies(ctx context.Context, key string, fields []string) ([][]byte, error) {
	var cmds []*goredis.SliceCmd
	_, err := db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i := 0; i < len(fields); i += bodyChunk {
			cmds = append(cmds, p.HMGet(ctx, key, fields[i:min(i+bodyChunk, len(fields))]...))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(fields))
	for _, c := range cmds {
		for _, x := range c.Val() {
			if s, ok := x.(string); ok {
				out = append(out, []byte(s))
			} else {
				out = append(out, nil)
			}
		}
	}
	return out, nil
}

// UIDs returns all UIDs of mailboxID in ascending order.
func (db *DB) UIDs(ctx context.Context, userID, mailboxID string) ([]uint32, error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return nil, wrap("uids", err)
	}
	v, err := db.run(ctx, scripts.uids, userMeta(userID), userPrefix(userID), mailboxID).StringSlice()
	if err != nil {
		return nil, wrap("uids", err)
	}
	return parseUIDs(v)
}

func parseUIDs(v []string) ([]uint32, error) {
	out := make([]uint32, 0, len(v))
	for _, s := range v {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("redis: uid %q", s)
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

// sortedUIDs returns uids sorted and without duplicates, as script arguments.
func sortedUIDs(uids []uint32) []any {
	u := slices.Clone(uids)
	slices.Sort(u)
	u = slices.Compact(u)
	out := make([]any, len(u))
	for i, x := range u {
		out[i] = x
	}
	return out
}
