package redis

import "context"

// recentCount is recentcount.lua; it lives apart from scripts, being read
// only by CountRecent.
var recentCount = luaScript("prelude", "recentcount")

// CountRecent counts the UIDs above the mailbox's \Recent mark in one
// script (ZCOUNT on the mailbox's UIDs): it writes nothing.
func (db *DB) CountRecent(ctx context.Context, userID, mailboxID string) (uint32, error) {
	if err := mailboxArgs(userID, mailboxID); err != nil {
		return 0, wrap("count recent", err)
	}
	n, err := db.run(ctx, recentCount, userMeta(userID), userPrefix(userID), mailboxID).Int64()
	if err != nil {
		return 0, wrap("count recent", err)
	}
	return uint32(n), nil
}
