package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

// SetFlags changes the flags of uids and returns the messages whose flags
// changed. HIGHESTMODSEQ moves only if something changed (RFC 7162
// section 3.1.3).
func (db *DB) SetFlags(ctx context.Context, userID, mailboxID string, uids []uint32, op store.FlagOp, flags []string) ([]store.Message, error) {
	changed, _, err := db.setFlags(ctx, "set flags", userID, mailboxID, uids, op, flags, "")
	return changed, err
}

// SetFlagsUnchangedSince is SetFlags that leaves alone, and returns, the
// messages changed after unchangedSince (RFC 7162 section 3.1.3), in the
// same script.
func (db *DB) SetFlagsUnchangedSince(ctx context.Context, userID, mailboxID string, uids []uint32, op store.FlagOp,
	flags []string, unchangedSince uint64) ([]store.Message, []uint32, error) {
	return db.setFlags(ctx, "set flags unchanged since", userID, mailboxID, uids, op, flags,
		strconv.FormatUint(unchangedSince, 10))
}

// setFlags runs setflags.lua; since is "" for an unconditional change.
func (db *DB) setFlags(ctx context.Context, name, userID, mailboxID string, uids []uint32, op store.FlagOp,
	flags []string, since string) ([]store.Message, []uint32, error) {
	flags, err := store.CheckSetFlags(op, flags)
	if err != nil {
		return nil, nil, wrap(name, err)
	}
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return nil, nil, wrap(name, err)
	}
	args := append([]any{userPrefix(userID), mailboxID, int(op), strings.Join(flags, " "), since}, sortedUIDs(uids)...)
	v, err := db.run(ctx, scripts.setFlags, userMeta(userID), args...).Slice()
	if err == nil && len(v) < 2 {
		err = fmt.Errorf("short script reply")
	}
	if err != nil {
		return nil, nil, wrap(name, err)
	}
	modseq, _ := v[0].(int64)
	raw, _ := v[1].([]any)
	var failed []uint32
	for _, x := range raw {
		n, ok := x.(int64)
		if !ok {
			return nil, nil, wrap(name, fmt.Errorf("uid %v", x))
		}
		failed = append(failed, uint32(n))
	}
	var changed []store.Message
	for i := 2; i+2 <= len(v); i += 2 {
		uid, err := strconv.ParseUint(str(v[i]), 10, 32)
		if err != nil {
			return nil, nil, wrap(name, fmt.Errorf("uid %v", v[i]))
		}
		var m store.Message
		m.UID, m.Flags, m.ModSeq = uint32(uid), store.DecodeFlags(str(v[i+1])), uint64(modseq)
		if m.Flags == nil {
			m.Flags = []string{}
		}
		changed = append(changed, m)
	}
	return changed, failed, nil
}

// Expunge removes the messages flagged \Deleted (only those among uids
// when uids is not nil), then drops their blob references (see refs.go).
func (db *DB) Expunge(ctx context.Context, userID, mailboxID string, uids []uint32) ([]uint32, error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return nil, wrap("expunge", err)
	}
	all := "0"
	if uids == nil {
		all = "1"
	}
	args := append([]any{userPrefix(userID), mailboxID, all}, sortedUIDs(uids)...)
	v, err := db.run(ctx, scripts.expunge, userMeta(userID), args...).Slice()
	if err != nil {
		return nil, wrap("expunge", err)
	}
	expunged, keys, err := uidsAndKeys(v, 0)
	if err != nil || len(expunged) == 0 {
		return nil, wrap("expunge", err)
	}
	return expunged, wrap("expunge", db.drop(ctx, keys))
}

// uidsAndKeys reads the arrays v[i] (UIDs) and v[last] (strings).
func uidsAndKeys(v []any, i int) ([]uint32, []string, error) {
	if len(v) <= i {
		return nil, nil, fmt.Errorf("short script reply")
	}
	raw, _ := v[i].([]any)
	uids := make([]uint32, 0, len(raw))
	for _, x := range raw {
		n, ok := x.(int64)
		if !ok {
			return nil, nil, fmt.Errorf("uid %v", x)
		}
		uids = append(uids, uint32(n))
	}
	rawKeys, _ := v[len(v)-1].([]any)
	keys := make([]string, 0, len(rawKeys))
	for _, x := range rawKeys {
		keys = append(keys, str(x))
	}
	return uids, keys, nil
}

// CopyMessages copies uids from srcID to dstID. The new entries' blob
// references are counted before the script runs (see refs.go): the blob
// keys are read first and passed to the script, which fails with ERR_RETRY
// if the source changed in between.
func (db *DB) CopyMessages(ctx context.Context, userID, srcID string, uids []uint32, dstID string) ([]uint32, []uint32, error) {
	const op = "copy messages"
	if err := mailboxArgs(userID, srcID); err != nil {
		return nil, nil, wrap(op, err)
	}
	if !validMailboxID(dstID) {
		return nil, nil, wrap(op, errorf(store.ErrNotFound, "mailbox id %q", dstID))
	}
	sorted := sortedUIDs(uids)
	for attempt := 0; ; attempt++ {
		src, dst, retry, err := db.copyOnce(ctx, userID, srcID, sorted, dstID)
		if retry && attempt < 5 {
			continue
		}
		return src, dst, wrap(op, err)
	}
}

func (db *DB) copyOnce(ctx context.Context, userID, srcID string, uids []any, dstID string) (src, dst []uint32, retry bool, err error) {
	expected := make([]string, len(uids))
	if len(uids) > 0 {
		fields := make([]string, len(uids))
		for i, u := range uids {
			fields[i] = strconv.FormatUint(uint64(u.(uint32)), 10)
		}
		heads, err := db.rdb.HMGet(ctx, userPrefix(userID)+":mb:"+srcID+":h", fields...).Result()
		if err != nil {
			return nil, nil, false, err
		}
		for i, h := range heads {
			if h == nil {
				continue
			}
			var m store.Message
			if err := parseHead(str(h), &m); err != nil {
				return nil, nil, false, err
			}
			expected[i] = m.BlobKey
		}
	}
	var refs []string
	for _, k := range expected {
		if k != "" {
			refs = append(refs, k)
		}
	}
	if err := db.ref(ctx, refs); err != nil {
		return nil, nil, false, err
	}
	args := append([]any{userPrefix(userID), srcID, dstID, "0", len(uids)}, uids...)
	for _, k := range expected {
		args = append(args, k)
	}
	v, err := db.run(ctx, scripts.transfer, userMeta(userID), args...).Slice()
	if err != nil {
		if !isUncertain(err) {
			_, uerr := db.unref(ctx, refs)
			err = joinErr(err, uerr)
		}
		return nil, nil, isRetry(err), err
	}
	src, _, err = uidsAndKeys(v, 0)
	if err == nil {
		dst, _, err = uidsAndKeys(v, 1)
	}
	return src, dst, false, err
}

func joinErr(err, other error) error {
	if other == nil {
		return err
	}
	return fmt.Errorf("%w (and giving back references: %v)", err, other)
}

// MoveMessages copies uids from srcID to dstID and removes them from srcID
// in one script. The entries keep their references.
func (db *DB) MoveMessages(ctx context.Context, userID, srcID string, uids []uint32, dstID string) ([]uint32, []uint32, error) {
	const op = "move messages"
	if err := mailboxArgs(userID, srcID); err != nil {
		return nil, nil, wrap(op, err)
	}
	if !validMailboxID(dstID) {
		return nil, nil, wrap(op, errorf(store.ErrNotFound, "mailbox id %q", dstID))
	}
	sorted := sortedUIDs(uids)
	args := append([]any{userPrefix(userID), srcID, dstID, "1", len(sorted)}, sorted...)
	v, err := db.run(ctx, scripts.transfer, userMeta(userID), args...).Slice()
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	src, _, err := uidsAndKeys(v, 0)
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	dst, _, err := uidsAndKeys(v, 1)
	return src, dst, wrap(op, err)
}
