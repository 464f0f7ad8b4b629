package redis

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Blob reference counts are global (one object may be referenced by many
// users), so they cannot be part of a user's scripts without crossing
// slots. Each object has its own counter {b:<key>}, changed in a separate
// step, ordered so that a counter is never lower than the number of index
// entries referring to the object:
//
//   - references are added BEFORE the script that stores the entries (and
//     taken back if the script stored fewer, e.g. a duplicate delivery);
//   - references are dropped AFTER the script that removed the entries
//     committed; the drop that reaches zero schedules the object's
//     deletion (store.Mailboxes) in the same script as the drop, except
//     on a Cluster, where the schedule ({ledger}) is in another slot than
//     the counter: there the ZADD follows the drop in the same call.
//
// A crash between the two steps therefore leaves a counter too high: the
// object leaks (it is kept, never deleted while referenced), as does, on a
// Cluster, a crash between a drop to zero and its ZADD. A reconciler that
// recounts the references of the index repairs such leaks.

// unrefLua drops ARGV[1] references of the object whose counter is
// KEYS[1]. At zero the counter is deleted and, when KEYS[2] (the delete
// schedule) is given, the object ARGV[3] is scheduled at ARGV[2] (unix ms;
// ZADD GT keeps a later time): the script returns 2. It returns 1 for an
// orphan it did not schedule, 0 while references remain.
const unrefLua = `
local n = redis.call('DECRBY', KEYS[1], ARGV[1])
if n > 0 then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then
  redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[3])
  return 2
end
return 1
`

// releaseBlobLua schedules the object ARGV[2] at ARGV[1] (unix ms) in the
// delete schedule KEYS[2] unless its counter KEYS[1] holds references.
const releaseBlobLua = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return 0 end
redis.call('ZADD', KEYS[2], 'GT', ARGV[1], ARGV[2])
return 1
`

// countKeys groups keys: key → occurrences.
func countKeys(keys []string) map[string]int64 {
	n := make(map[string]int64, len(keys))
	for _, k := range keys {
		n[k]++
	}
	return n
}

// ref adds one reference per entry of keys.
func (db *DB) ref(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if len(keys) == 1 {
		return db.rdb.IncrBy(ctx, refKey(keys[0]), 1).Err()
	}
	_, err := db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for k, n := range countKeys(keys) {
			p.IncrBy(ctx, refKey(k), n)
		}
		return nil
	})
	return err
}

// drop drops one reference per entry of keys and schedules the deletion of
// the objects left without one, now (store.Mailboxes).
func (db *DB) drop(ctx context.Context, keys []string) error {
	at := time.Now()
	orphans, err := db.unrefAt(ctx, keys, at)
	if err != nil || len(orphans) == 0 {
		return err
	}
	return db.schedule(ctx, orphans, at) // Cluster: see above
}

// unref drops one reference per entry of keys and returns the keys that
// have none left, sorted, without scheduling them: a reference taken back
// (a copy or insert that stored nothing) or one replaced by ImportUser.
func (db *DB) unref(ctx context.Context, keys []string) ([]string, error) {
	return db.unrefAt(ctx, keys, time.Time{})
}

// unrefAt is unref that, unless at is zero, also schedules the orphans'
// deletion at time at in the script that drops their last reference. It
// returns the orphans it did not schedule (all of them on a Cluster).
func (db *DB) unrefAt(ctx context.Context, keys []string, at time.Time) ([]string, error) {
	todo := countKeys(keys)
	inScript := !at.IsZero() && !db.cluster
	score := ceilMs(at)
	var orphans []string
	for attempt := 0; len(todo) > 0; attempt++ {
		cmds := make(map[string]*goredis.Cmd, len(todo))
		_, err := db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for k, n := range todo {
				if inScript {
					cmds[k] = scripts.unref.EvalSha(ctx, p, []string{refKey(k), ledgerBlobDeletes}, n, score, k)
				} else {
					cmds[k] = scripts.unref.EvalSha(ctx, p, []string{refKey(k)}, n)
				}
			}
			return nil
		})
		noScript := false
		var errs []error
		for k, c := range cmds {
			switch n, err := c.Int(); {
			case err == nil:
				if n == 1 {
					orphans = append(orphans, k)
				}
				delete(todo, k)
			case isNoScript(err) && attempt == 0:
				noScript = true
			default:
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		if !noScript {
			if err != nil && len(todo) > 0 {
				return nil, err
			}
			break
		}
		// The server lost its script cache (restart, failover): load the
		// script on every node and drop the references that are left.
		if err := scripts.unref.Load(ctx, db.rdb).Err(); err != nil {
			return nil, err
		}
	}
	slices.Sort(orphans)
	return orphans, nil
}

func isNoScript(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") }
