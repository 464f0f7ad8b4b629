package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/store"
)

// ReindexStore is what Reindex needs of the index store: everything but
// the abuse counters, from the directory to the ledger's epoch.
type ReindexStore interface {
	store.Directory
	store.Mailboxes
	store.Queue
	store.Ledger
	store.Snapshots
}

// Report says what Reindex did.
type Report struct {
	Directory         string // key of the directory snapshot imported; "" if none
	Users             int    // users reindexed
	UsersFromSnapshot int    // of which restored from a snapshot
	Mailboxes         int    // mailboxes restored
	Messages          int    // index entries restored from snapshots
	Objects           int    // message objects looked at
	InIndex           int    // objects every recipient already has in the restored index
	Enqueued          int    // jobs enqueued for delivery (messages missing from the index)
	Appended          int    // IMAP APPEND objects put back into their mailbox
	Skipped           int    // objects for no reindexed user, or without readable metadata
}

// maxReindexErrs bounds the errors Reindex reports; the rest are counted.
const maxReindexErrs = 20

// Reindex rebuilds the index of the user with address (every user when
// address is "") from the bucket: the newest directory snapshot is
// imported (adding what the directory lacks), each user's index is
// replaced by their newest snapshot (or made empty if they have none), and
// every message object not in the restored index is delivered again
// through the queue, so a running worker fills in what came after the
// snapshot. Idempotency keys restored with the snapshots keep each message
// once per mailbox.
func Reindex(ctx context.Context, st ReindexStore, blobs blob.Store, address string, log *slog.Logger) (Report, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &reindexer{st: st, blobs: blobs, log: log, idem: map[string]map[string]bool{}}
	if err := r.importDirectory(ctx); err != nil {
		return r.rep, err
	}
	users, err := r.targets(ctx, address)
	if err != nil {
		return r.rep, err
	}
	for _, u := range users {
		if err := r.importUser(ctx, u); err != nil {
			return r.rep, err
		}
	}
	if err := r.scanObjects(ctx); err != nil {
		return r.rep, err
	}
	if err := r.errs.join(); err != nil {
		return r.rep, err
	}
	// The index belongs to the bucket again: reconcilers and snapshotters
	// resume.
	return r.rep, reconcile.AdoptEpoch(ctx, st, blobs)
}

// reindexer is the state of one Reindex.
type reindexer struct {
	st    ReindexStore
	blobs blob.Store
	log   *slog.Logger
	rep   Report
	idem  map[string]map[string]bool // user ID → idempotency keys now in the index
	errs  errCollector
}

func (r *reindexer) importDirectory(ctx context.Context) error {
	keys, err := listKeys(ctx, r.blobs, DirectoryDir)
	if err != nil {
		return err
	}
	for i := len(keys) - 1; i >= 0; i-- {
		var snap store.DirectorySnapshot
		if err := load(ctx, r.blobs, keys[i], &snap); err != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "unreadable directory snapshot skipped",
				slog.String("key", keys[i]), slog.String("error", err.Error()))
			continue
		}
		if err := r.st.ImportDirectory(ctx, &snap); err != nil {
			return fmt.Errorf("reindex: import directory %s: %w", keys[i], err)
		}
		r.rep.Directory = keys[i]
		return nil
	}
	return nil
}

func (r *reindexer) targets(ctx context.Context, address string) ([]store.User, error) {
	if address == "" {
		users, err := r.st.Users(ctx)
		if err != nil {
			return nil, fmt.Errorf("reindex: users: %w", err)
		}
		return users, nil
	}
	u, err := r.st.UserByAddress(ctx, address)
	if err != nil {
		return nil, fmt.Errorf("reindex: user %s: %w", address, err)
	}
	return []store.User{u}, nil
}

// importUser replaces u's index by their newest readable snapshot, or
// gives them the default mailboxes if there is none.
func (r *reindexer) importUser(ctx context.Context, u store.User) error {
	r.rep.Users++
	r.idem[u.ID] = map[string]bool{}
	keys, err := listKeys(ctx, r.blobs, UserPrefix(u.ID))
	if err != nil {
		return err
	}
	for i := len(keys) - 1; i >= 0; i-- {
		var snap store.UserSnapshot
		if err := load(ctx, r.blobs, keys[i], &snap); err != nil || snap.UserID != u.ID {
			r.log.LogAttrs(ctx, slog.LevelWarn, "unreadable user snapshot skipped",
				slog.String("key", keys[i]), slog.Any("error", err))
			continue
		}
		if err := r.st.ImportUser(ctx, &snap); err != nil {
			return fmt.Errorf("reindex: import %s from %s: %w", u.Address, keys[i], err)
		}
		r.rep.UsersFromSnapshot++
		r.rep.Mailboxes += len(snap.Mailboxes)
		for _, mb := range snap.Mailboxes {
			r.rep.Messages += len(mb.Messages)
		}
		for k := range snap.IdemKeys {
			r.idem[u.ID][k] = true
		}
		r.log.LogAttrs(ctx, slog.LevelInfo, "user restored from snapshot", slog.String("user", u.Address),
			slog.String("key", keys[i]), slog.Int("mailboxes", len(snap.Mailboxes)))
		return nil
	}
	if err := r.st.EnsureUser(ctx, u.ID); err != nil {
		return fmt.Errorf("reindex: mailboxes of %s: %w", u.Address, err)
	}
	r.log.LogAttrs(ctx, slog.LevelWarn, "no snapshot: index rebuilt from message objects only", slog.String("user", u.Address))
	return nil
}

// errCollector keeps the first errors of a long run and counts the rest.
type errCollector struct {
	errs    []error
	dropped int
}

func (c *errCollector) add(err error) {
	if len(c.errs) < maxReindexErrs {
		c.errs = append(c.errs, err)
	} else {
		c.dropped++
	}
}

func (c *errCollector) join() error {
	if c.dropped > 0 {
		c.errs = append(c.errs, fmt.Errorf("reindex: and %d more errors", c.dropped))
	}
	return errors.Join(c.errs...)
}
