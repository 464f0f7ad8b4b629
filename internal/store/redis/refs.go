package redis

import (
	"context"
	"errors"
	"slices"
	"strings"

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
//     committed; the drop that reaches zero reports the object as orphaned.
//
// A crash between the two steps therefore leaves a counter too high: the
// object leaks (it is kept, never deleted while referenced). A reconciler
// that recounts the references of the index repairs such leaks.

// unrefLua drops ARGV[1] references; at zero the counter is deleted and the
// script returns 1 (the object is an orphan).
const unrefLua = `
local n = redis.call('DECRBY', KEYS[1], ARGV[1])
if n <= 0 then redis.call('DEL', KEYS[1]) return 1 end
return 0
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

// unref drops one reference per entry of keys and returns the keys that
// have none left, sorted.
func (db *DB) unref(ctx context.Context, keys []string) ([]string, error) {
	todo := countKeys(keys)
	var orphans []string
	for attempt := 0; len(todo) > 0; attempt++ {
		cmds := make(map[string]*goredis.Cmd, len(todo))
		_, err := db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for k, n := range todo {
				cmds[k] = scripts.unref.EvalSha(ctx, p, []string{refKey(k)}, n)
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
