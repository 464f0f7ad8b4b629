package redis

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
)

// ClaimRecent moves the mailbox's recent mark ('rec') to UIDNEXT-1 in one
// script and returns the UIDs it passed.
func (db *DB) ClaimRecent(ctx context.Context, userID, mailboxID string) (first, last uint32, err error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return 0, 0, wrap("claim recent", err)
	}
	v, err := db.run(ctx, scripts.recent, userMeta(userID), userPrefix(userID), mailboxID).Int64Slice()
	if err == nil && len(v) != 2 {
		err = fmt.Errorf("short script reply")
	}
	if err != nil {
		return 0, 0, wrap("claim recent", err)
	}
	return uint32(v[0]), uint32(v[1]), nil
}

// tombstone is the size of one record of P:mb:<id>:x (see keys.go).
const tombstone = 12

// Vanished reads the mailbox's tombstones after sinceModSeq and its floor
// in one script.
func (db *DB) Vanished(ctx context.Context, userID, mailboxID string, sinceModSeq uint64) ([]uint32, bool, error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return nil, false, wrap("vanished", err)
	}
	v, err := db.run(ctx, scripts.vanished, userMeta(userID), userPrefix(userID), mailboxID,
		strconv.FormatUint(sinceModSeq, 10)).StringSlice()
	if err == nil && len(v) != 2 {
		err = fmt.Errorf("short script reply")
	}
	if err != nil {
		return nil, false, wrap("vanished", err)
	}
	floor, err := strconv.ParseUint(v[0], 10, 64)
	if err != nil || len(v[1])%tombstone != 0 {
		return nil, false, wrap("vanished", fmt.Errorf("bad tombstones of mailbox %s", mailboxID))
	}
	out := make([]uint32, 0, len(v[1])/tombstone)
	for b := []byte(v[1]); len(b) > 0; b = b[tombstone:] {
		out = append(out, binary.BigEndian.Uint32(b))
	}
	slices.Sort(out)
	return out, sinceModSeq >= floor, nil
}

// ModSeqUIDs reads the UIDs changed at or after modSeq from the mailbox's
// :m index in one script.
func (db *DB) ModSeqUIDs(ctx context.Context, userID, mailboxID string, modSeq uint64) ([]uint32, error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return nil, wrap("modseq uids", err)
	}
	v, err := db.run(ctx, scripts.modseqUIDs, userMeta(userID), userPrefix(userID), mailboxID,
		strconv.FormatUint(modSeq, 10)).StringSlice()
	if err != nil {
		return nil, wrap("modseq uids", err)
	}
	out := make([]uint32, 0, len(v))
	for _, s := range v {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, wrap("modseq uids", fmt.Errorf("uid %q", s))
		}
		out = append(out, uint32(n))
	}
	slices.Sort(out)
	return out, nil
}
