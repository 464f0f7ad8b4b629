package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

var _ store.Snapshots = (*DB)(nil)

// optimisticExports is how many times ExportUser reads without blocking
// Redis before it falls back to one MULTI/EXEC read.
const optimisticExports = 3

// ChangeSeq returns userID's change counter, P:meta changes (0 before the
// user's first change).
func (db *DB) ChangeSeq(ctx context.Context, userID string) (uint64, error) {
	if err := checkUser(userID); err != nil {
		return 0, wrap("change seq", err)
	}
	n, err := db.rdb.HGet(ctx, userMeta(userID), "changes").Uint64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	return n, wrap("change seq", err)
}

// ExportUser returns a consistent snapshot of userID's index. Every
// mutation of a user bumps P:meta changes in the same script, so a read
// that finds the counter unchanged from before its first command to after
// its last saw one state. Such a read goes in pipelines of small commands
// (bodies in HMGET chunks) so that Redis serves others in between even for
// a huge mailbox; if the user keeps changing, the export falls back to one
// MULTI/EXEC, which blocks Redis for the whole read but always succeeds.
func (db *DB) ExportUser(ctx context.Context, userID string) (*store.UserSnapshot, error) {
	if err := checkUser(userID); err != nil {
		return nil, wrap("export user", err)
	}
	for attempt := 0; ; attempt++ {
		snap, ok, err := db.exportOnce(ctx, userID, attempt >= optimisticExports)
		if err != nil {
			return nil, wrap("export user", err)
		}
		if ok {
			return snap, nil
		}
		if attempt >= optimisticExports+3 {
			return nil, wrap("export user", fmt.Errorf("user %s kept changing its mailboxes", userID))
		}
	}
}

// exportRead holds the replies of one export read.
type exportRead struct {
	seq       *goredis.StringCmd
	mailboxes *goredis.MapStringStringCmd
	status    []*goredis.SliceCmd
	heads     []*goredis.MapStringStringCmd
	bodies    []*goredis.MapStringStringCmd // atomic reads only
	idem      *goredis.MapStringStringCmd
	subs      *goredis.StringSliceCmd // the subscribed names that are not mailboxes
}

// exportOnce reads the mailbox list, then everything else; ok is false if
// the user changed meanwhile.
func (db *DB) exportOnce(ctx context.Context, userID string, atomic bool) (*store.UserSnapshot, bool, error) {
	P := userPrefix(userID)
	var first exportRead
	if err := pipeErr(db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		first.seq = p.HGet(ctx, P+":meta", "changes")
		first.mailboxes = p.HGetAll(ctx, P+":mailboxes")
		return nil
	})); err != nil {
		return nil, false, err
	}
	mbs := first.mailboxes.Val()
	ids := slices.Sorted(maps.Values(mbs))

	var r exportRead
	read := func(p goredis.Pipeliner) error {
		r.seq = p.HGet(ctx, P+":meta", "changes")
		r.mailboxes = p.HGetAll(ctx, P+":mailboxes")
		for _, id := range ids {
			k := P + ":mb:" + id
			r.status = append(r.status, p.HMGet(ctx, k, "name", "special", "sub", "uv", "next", "hms", "n", "unseen", "size",
				"del", "kw", "eb", "es"))
			r.heads = append(r.heads, p.HGetAll(ctx, k+":h"))
			if atomic {
				r.bodies = append(r.bodies, p.HGetAll(ctx, k+":b"))
			}
		}
		r.idem = p.HGetAll(ctx, P+":idem")
		r.subs = p.SMembers(ctx, P+":subs")
		return nil
	}
	pipe := db.rdb.Pipelined
	if atomic {
		pipe = db.rdb.TxPipelined
	}
	if err := pipeErr(pipe(ctx, read)); err != nil {
		return nil, false, err
	}
	if atomic && !maps.Equal(r.mailboxes.Val(), mbs) {
		return nil, false, nil // a mailbox came or went between the two reads
	}
	seq := first.seq.Val()
	if !atomic && r.seq.Val() != seq {
		return nil, false, nil
	}
	if atomic {
		seq = r.seq.Val()
	}

	snap := &store.UserSnapshot{Version: store.SnapshotVersion, UserID: userID, Taken: time.Now().UTC(),
		IdemKeys: map[string]store.IdemRef{}}
	if seq != "" {
		var err error
		if snap.ChangeSeq, err = strconv.ParseUint(seq, 10, 64); err != nil {
			return nil, false, fmt.Errorf("change counter %q", seq)
		}
	}
	for i, id := range ids {
		ms, err := exportMailbox(id, r.status[i].Val(), r.heads[i].Val())
		if err != nil {
			return nil, false, err
		}
		snap.Mailboxes = append(snap.Mailboxes, ms)
	}
	if atomic {
		for i := range snap.Mailboxes {
			if err := fillBodies(&snap.Mailboxes[i], r.bodies[i].Val()); err != nil {
				return nil, false, err
			}
		}
	} else {
		after, err := db.exportBodies(ctx, P, snap.Mailboxes)
		if err != nil {
			return nil, false, err
		}
		if after != seq {
			return nil, false, nil
		}
	}
	for key, v := range r.idem.Val() {
		mbox, uid, ok := strings.Cut(v, ":")
		n, err := strconv.ParseUint(uid, 10, 32)
		if !ok || err != nil {
			return nil, false, fmt.Errorf("idempotency key %q: %q", key, v)
		}
		snap.IdemKeys[key] = store.IdemRef{MailboxID: mbox, UID: uint32(n)}
	}
	slices.SortFunc(snap.Mailboxes, func(a, b store.MailboxSnapshot) int {
		return strings.Compare(a.Mailbox.Name, b.Mailbox.Name)
	})
	snap.Subscriptions = r.subs.Val()
	for _, ms := range snap.Mailboxes {
		if ms.Mailbox.Subscribed {
			snap.Subscriptions = append(snap.Subscriptions, ms.Mailbox.Name)
		}
	}
	slices.Sort(snap.Subscriptions)
	return snap, true, nil
}

// exportMailbox builds a mailbox with its messages' heads, in UID order.
// status holds the mailbox fields of parseMailboxes, then 'eb' and 'es'.
func exportMailbox(id string, status []any, heads map[string]string) (store.MailboxSnapshot, error) {
	row := []string{id}
	for _, v := range status {
		row = append(row, str(v))
	}
	if len(row) != mailboxFields+2 {
		return store.MailboxSnapshot{}, fmt.Errorf("mailbox %s: short status", id)
	}
	ids := newEmailIDs(id, row[mailboxFields], row[mailboxFields+1])
	row = row[:mailboxFields]
	mbs, err := parseMailboxes(row)
	if err != nil {
		return store.MailboxSnapshot{}, err
	}
	if len(mbs) != 1 || row[1] == "" {
		return store.MailboxSnapshot{}, fmt.Errorf("mailbox %s: no status", id)
	}
	ms := store.MailboxSnapshot{Mailbox: mbs[0], Messages: make([]store.Message, 0, len(heads))}
	for u, h := range heads {
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return store.MailboxSnapshot{}, fmt.Errorf("mailbox %s: uid %q", id, u)
		}
		m := store.Message{UID: uint32(uid)}
		if err := parseHead(h, &m); err != nil {
			return store.MailboxSnapshot{}, err
		}
		ids.fill(&m)
		ms.Messages = append(ms.Messages, m)
	}
	slices.SortFunc(ms.Messages, func(a, b store.Message) int { return cmp.Compare(a.UID, b.UID) })
	return ms, nil
}

// fillBodies decodes the bodies of ms's messages from bodies (UID → body).
func fillBodies(ms *store.MailboxSnapshot, bodies map[string]string) error {
	for i := range ms.Messages {
		m := &ms.Messages[i]
		b, ok := bodies[strconv.FormatUint(uint64(m.UID), 10)]
		if !ok {
			return fmt.Errorf("mailbox %s: message %d has no body", ms.Mailbox.ID, m.UID)
		}
		if err := decodeBody([]byte(b), m); err != nil {
			return err
		}
	}
	return nil
}

// exportBodies reads the bodies of every message in pipelined HMGET chunks,
// then the change counter, which it returns for the caller to compare.
func (db *DB) exportBodies(ctx context.Context, P string, mbs []store.MailboxSnapshot) (string, error) {
	type chunk struct {
		mb, from int
		cmd      *goredis.SliceCmd
	}
	var chunks []chunk
	var seq *goredis.StringCmd
	err := pipeErr(db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, ms := range mbs {
			for from := 0; from < len(ms.Messages); from += bodyChunk {
				part := ms.Messages[from:min(from+bodyChunk, len(ms.Messages))]
				fields := make([]string, len(part))
				for j, m := range part {
					fields[j] = strconv.FormatUint(uint64(m.UID), 10)
				}
				chunks = append(chunks, chunk{i, from, p.HMGet(ctx, P+":mb:"+ms.Mailbox.ID+":b", fields...)})
			}
		}
		seq = p.HGet(ctx, P+":meta", "changes")
		return nil
	}))
	if err != nil {
		return "", err
	}
	for _, c := range chunks {
		ms := &mbs[c.mb]
		for j, v := range c.cmd.Val() {
			m := &ms.Messages[c.from+j]
			b, ok := v.(string)
			if !ok {
				// Expunged meanwhile: the counter moved, the caller retries.
				continue
			}
			if err := decodeBody([]byte(b), m); err != nil {
				return "", err
			}
		}
	}
	return seq.Val(), nil
}

// pipeErr returns the first error of a pipeline's commands other than
// redis.Nil (a missing key or field, which every read here expects).
func pipeErr(cmds []goredis.Cmder, err error) error {
	if err == nil {
		return nil
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && !errors.Is(e, goredis.Nil) {
			return e
		}
	}
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	return err
}
