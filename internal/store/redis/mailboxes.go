package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// checkUser rejects user IDs that would break the hash tag of their keys.
func checkUser(userID string) error {
	if !validUserID(userID) {
		return errorf(store.ErrNotFound, "user id %q", userID)
	}
	return nil
}

// parents returns name's superior levels that the script must create if
// missing, each with a fresh mailbox ID, as script arguments.
func parents(name string) []any {
	var out []any
	for i := 0; i < len(name); i++ {
		if name[i] == store.Delimiter {
			out = append(out, name[:i], newMailboxID())
		}
	}
	return out
}

// freshScript runs a mailbox script of userID that creates mailboxes;
// ERR_RETRY (a fresh mailbox ID was taken, about 2^-64 likely) runs it
// again with new IDs from args.
func (db *DB) freshScript(ctx context.Context, op string, s *goredis.Script, userID string, args func() []any) error {
	if err := checkUser(userID); err != nil {
		return wrap(op, err)
	}
	for attempt := 0; ; attempt++ {
		a := append([]any{userPrefix(userID)}, args()...)
		err := db.run(ctx, s, userMeta(userID), a...).Err()
		if isRetry(err) && attempt < 3 {
			continue
		}
		return wrap(op, err)
	}
}

// EnsureUser creates the default mailboxes of userID that do not exist.
func (db *DB) EnsureUser(ctx context.Context, userID string) error {
	return db.freshScript(ctx, "ensure user", scripts.ensure, userID, func() []any {
		var a []any
		for _, d := range store.DefaultMailboxes {
			a = append(a, d.Name, d.SpecialUse, newMailboxID())
		}
		return a
	})
}

// PurgeUser deletes every mailbox and message of userID.
func (db *DB) PurgeUser(ctx context.Context, userID string) error {
	if err := checkUser(userID); err != nil {
		return wrap("purge user", err)
	}
	keys, err := db.run(ctx, scripts.purge, userMeta(userID), userPrefix(userID)).StringSlice()
	if err != nil {
		return wrap("purge user", err)
	}
	return wrap("purge user", db.drop(ctx, keys))
}

// mailboxFields is how many fields mailboxes.lua returns for a mailbox,
// its ID first.
const mailboxFields = 12

func parseMailboxes(v []string) ([]store.Mailbox, error) {
	var out []store.Mailbox
	for i := 0; i+mailboxFields <= len(v); i += mailboxFields {
		r := v[i : i+mailboxFields]
		n := func(j int) uint64 {
			x, _ := strconv.ParseUint(r[j], 10, 64)
			return x
		}
		size, err := strconv.ParseInt(r[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: size %q", r[0], r[9])
		}
		out = append(out, store.Mailbox{
			ID: r[0], Name: r[1], SpecialUse: r[2], Subscribed: r[3] == "1",
			UIDValidity: uint32(n(4)), UIDNext: uint32(n(5)), HighestModSeq: n(6),
			Messages: uint32(n(7)), Unseen: uint32(n(8)), Size: size,
			Deleted: uint32(n(10)), Keywords: store.DecodeFlags(r[11]),
		})
	}
	return out, nil
}

// Usage returns the sum of the sizes of userID's mailboxes, read in one
// script (the mailbox hashes keep their sizes), so it is consistent.
func (db *DB) Usage(ctx context.Context, userID string) (int64, error) {
	mbs, err := db.ListMailboxes(ctx, userID)
	if err != nil {
		return 0, wrap("usage", err)
	}
	var n int64
	for _, mb := range mbs {
		n += mb.Size
	}
	return n, nil
}

// ListMailboxes returns userID's mailboxes sorted by name.
func (db *DB) ListMailboxes(ctx context.Context, userID string) ([]store.Mailbox, error) {
	if err := checkUser(userID); err != nil {
		return nil, wrap("list mailboxes", err)
	}
	v, err := db.run(ctx, scripts.mailboxes, userMeta(userID), userPrefix(userID)).StringSlice()
	if err != nil {
		return nil, wrap("list mailboxes", err)
	}
	out, err := parseMailboxes(v)
	slices.SortFunc(out, func(a, b store.Mailbox) int { return strings.Compare(a.Name, b.Name) })
	return out, wrap("list mailboxes", err)
}

// Mailbox returns userID's mailbox by name.
func (db *DB) Mailbox(ctx context.Context, userID, name string) (store.Mailbox, error) {
	name, err := store.CheckMailboxName(name)
	if err == nil {
		err = checkUser(userID)
	}
	if err != nil {
		return store.Mailbox{}, wrap("mailbox", errorf(store.ErrNotFound, "%v", err))
	}
	v, err := db.run(ctx, scripts.mailboxes, userMeta(userID), userPrefix(userID), name).StringSlice()
	if err != nil {
		return store.Mailbox{}, wrap("mailbox", err)
	}
	mbs, err := parseMailboxes(v)
	if err == nil && len(mbs) != 1 {
		err = errorf(store.ErrNotFound, "mailbox %q", name)
	}
	if err != nil {
		return store.Mailbox{}, wrap("mailbox", err)
	}
	return mbs[0], nil
}

// CreateMailbox creates a mailbox and its missing parents.
func (db *DB) CreateMailbox(ctx context.Context, userID, name, specialUse string) error {
	name, err := store.CheckCreateMailbox(name, specialUse)
	if err != nil {
		return wrap("create mailbox", err)
	}
	return db.freshScript(ctx, "create mailbox", scripts.create, userID, func() []any {
		return append([]any{name, specialUse, newMailboxID()}, parents(name)...)
	})
}

// DeleteMailbox deletes a mailbox and its messages; its children stay.
func (db *DB) DeleteMailbox(ctx context.Context, userID, name string) error {
	if err := checkUser(userID); err != nil {
		return wrap("delete mailbox", err)
	}
	name, err := store.CheckDeleteMailbox(name)
	if err != nil {
		return wrap("delete mailbox", err)
	}
	keys, err := db.run(ctx, scripts.deleteMB, userMeta(userID), userPrefix(userID), name).StringSlice()
	if err != nil {
		return wrap("delete mailbox", err)
	}
	return wrap("delete mailbox", db.drop(ctx, keys))
}

// RenameMailbox renames a mailbox and its children; renaming INBOX moves
// its messages to a new mailbox instead (RFC 9051 section 6.3.6).
func (db *DB) RenameMailbox(ctx context.Context, userID, oldName, newName string) error {
	oldName, newName, err := store.CheckRename(oldName, newName)
	if err != nil {
		return wrap("rename mailbox", err)
	}
	return db.freshScript(ctx, "rename mailbox", scripts.rename, userID, func() []any {
		return append([]any{oldName, newName, newMailboxID()}, parents(newName)...)
	})
}

// SetSubscribed subscribes an existing mailbox, or unsubscribes a name
// (see store.Mailboxes).
func (db *DB) SetSubscribed(ctx context.Context, userID, name string, subscribed bool) error {
	name, err := store.CheckMailboxName(name)
	if err == nil {
		err = checkUser(userID)
	}
	if err != nil {
		return wrap("set subscribed", errorf(store.ErrNotFound, "%v", err))
	}
	sub := "0"
	if subscribed {
		sub = "1"
	}
	return wrap("set subscribed", db.run(ctx, scripts.subscribe, userMeta(userID), userPrefix(userID), name, sub,
		store.MaxSubscriptions).Err())
}

// Subscriptions returns userID's subscribed names, sorted.
func (db *DB) Subscriptions(ctx context.Context, userID string) ([]string, error) {
	if err := checkUser(userID); err != nil {
		return nil, wrap("subscriptions", err)
	}
	names, err := db.run(ctx, scripts.subscriptions, userMeta(userID), userPrefix(userID)).StringSlice()
	if err != nil {
		return nil, wrap("subscriptions", err)
	}
	slices.Sort(names)
	return names, nil
}
