// Package redis is the cloud driver of store.Store: directory, mailbox index
// and queue in Redis (go-redis v9 UniversalClient), so that it works the same
// on a single server, behind Sentinel and on a Redis Cluster. It is opened
// from a `redis://` or `rediss://` URL (see Open).
//
// Every atomic change is one Lua script over the keys of one hash tag: a
// user's mailboxes under `{u:<id>}`, the directory under `{dir}`, a queue
// under `{q:<name>}`, the reconciler's ledger (leases, checkpoints, the
// blob delete schedule) under `{ledger}`; so nothing ever fails with
// CROSSSLOT on a Cluster
// (DESIGN.md invariant 7). Blob reference counts are global and live in one
// key per object, `{b:<key>}`, updated around the user scripts (see refs.go).
// Changes are published per user on `{u:<id>}:changes`, so Watch sees a
// change made by any process. The key layout is documented in keys.go.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// DB is a store.Store on Redis. It is safe for concurrent use by many
// goroutines, and any number of processes may open the same Redis.
type DB struct {
	rdb     goredis.UniversalClient
	cluster bool
	watch   *hub
	relay   *relay // one blocked XREAD per stream (relay.go)

	doneRetention atomic.Int64 // 0: store.DoneRetention

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

// Open connects to the Redis named by rawURL (see ParseURL) and checks that
// it answers.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	opts, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	db := New(goredis.NewUniversalClient(opts))
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// New wraps an existing client; Close closes it.
func New(rdb goredis.UniversalClient) *DB {
	_, cluster := rdb.(*goredis.ClusterClient)
	db := &DB{rdb: rdb, cluster: cluster, relay: newRelay()}
	db.watch = newHub(rdb)
	return db
}

// Client returns the underlying client (for tests and admin tools).
func (db *DB) Client() goredis.UniversalClient { return db.rdb }

// Ping checks that Redis answers.
func (db *DB) Ping(ctx context.Context) error {
	return wrap("ping", db.rdb.Ping(ctx).Err())
}

// Close closes every Watch channel and the client.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.watch.close()
		if err := db.rdb.Close(); err != nil {
			db.closeErr = fmt.Errorf("redis: close: %w", err)
		}
	})
	return db.closeErr
}

// Error codes that scripts raise (as the first word of an error reply), and
// the store sentinel each stands for.
var scriptErrors = []struct {
	code     string
	sentinel error
}{
	{"ERR_NOTFOUND", store.ErrNotFound},
	{"ERR_EXISTS", store.ErrExists},
	{"ERR_INVALID", store.ErrInvalid},
	{"ERR_INUSE", store.ErrInUse},
	{"ERR_LIMIT", store.ErrLimit},
}

// errRetry is raised by a script whose optimistic precondition no longer
// holds (see CopyMessages); the caller runs it again.
const errRetry = "ERR_RETRY"

// wrap adds the package and operation to err and classifies it: script
// error codes become store sentinels (permanent), redis.Nil is
// store.ErrNotFound; everything else (connection errors, timeouts, OOM,
// failover) is temporary, the default of package fault.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis: %s: %w", op, store.ErrNotFound)
	}
	msg := err.Error()
	for _, e := range scriptErrors {
		if strings.HasPrefix(msg, e.code) {
			detail := strings.TrimSpace(strings.TrimPrefix(msg, e.code))
			return fmt.Errorf("redis: %s: %w: %s", op, e.sentinel, detail)
		}
	}
	return fmt.Errorf("redis: %s: %w", op, err)
}

func isRetry(err error) bool { return err != nil && strings.HasPrefix(err.Error(), errRetry) }

// errorf returns a store sentinel error with detail.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
