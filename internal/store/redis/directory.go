package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// The directory lives under the hash tag {dir} (see keys.go); every change
// is one script, so it is atomic on a Cluster too.

// AddDomain adds a local domain.
func (db *DB) AddDomain(ctx context.Context, domain string) error {
	domain, err := store.CheckNewDomain(domain)
	if err == nil && strings.ContainsAny(domain, "{}") {
		err = errorf(store.ErrInvalid, "domain %q", domain) // would break the {dir} hash tag
	}
	if err != nil {
		return wrap("add domain", err)
	}
	n, err := db.rdb.SAdd(ctx, dirKey, domain).Result()
	if err == nil && n == 0 {
		err = errorf(store.ErrExists, "domain %s", domain)
	}
	return wrap("add domain", err)
}

// DeleteDomain removes a domain without users or aliases.
func (db *DB) DeleteDomain(ctx context.Context, domain string) error {
	return wrap("delete domain", db.run(ctx, scripts.deleteDomain, dirKey, store.NormAddress(domain)).Err())
}

// Domains returns the local domains, sorted.
func (db *DB) Domains(ctx context.Context) ([]string, error) {
	out, err := db.rdb.SMembers(ctx, dirKey).Result()
	slices.Sort(out)
	return out, wrap("domains", err)
}

// HasDomain reports whether domain is local.
func (db *DB) HasDomain(ctx context.Context, domain string) (bool, error) {
	ok, err := db.rdb.SIsMember(ctx, dirKey, store.NormAddress(domain)).Result()
	return ok, wrap("has domain", err)
}

// AddUser creates a user with a new random ID.
func (db *DB) AddUser(ctx context.Context, address, passwordHash string) (store.User, error) {
	address, domain, err := store.CheckUserAddress(address)
	if err != nil {
		return store.User{}, wrap("add user", err)
	}
	u := store.User{ID: store.NewID(), Address: address, PasswordHash: passwordHash, Created: time.Now().UTC()}
	err = db.run(ctx, scripts.addUser, dirKey, address, domain, u.ID, passwordHash, u.Created.UnixNano()).Err()
	if err != nil {
		return store.User{}, wrap("add user", err)
	}
	return u, nil
}

// DeleteUser removes a user from the directory. Its mailboxes stay until
// PurgeUser.
func (db *DB) DeleteUser(ctx context.Context, address string) error {
	address = store.NormAddress(address)
	_, domain, _ := store.SplitAddress(address)
	return wrap("delete user", db.run(ctx, scripts.deleteUser, dirKey, address, domain).Err())
}

// SetPassword replaces a user's password hash.
func (db *DB) SetPassword(ctx context.Context, address, passwordHash string) error {
	return wrap("set password", db.run(ctx, scripts.setPassword, dirKey, store.NormAddress(address), passwordHash).Err())
}

// SetQuota sets a user's storage quota (see store.User.Quota), a field of
// the user's hash.
func (db *DB) SetQuota(ctx context.Context, address string, bytes int64) error {
	if err := store.CheckQuota(bytes); err != nil {
		return wrap("set quota", err)
	}
	return wrap("set quota", db.run(ctx, scripts.setQuota, dirKey, store.NormAddress(address), bytes).Err())
}

// UserByAddress returns the user with address.
func (db *DB) UserByAddress(ctx context.Context, address string) (store.User, error) {
	v, err := db.run(ctx, scripts.user, dirKey, store.NormAddress(address)).StringSlice()
	if err != nil {
		return store.User{}, wrap("user by address", err)
	}
	return parseUser(v)
}

// UserByID returns the user with id.
func (db *DB) UserByID(ctx context.Context, id string) (store.User, error) {
	v, err := db.rdb.HMGet(ctx, "{dir}:user:"+id, "address", "hash", "created", "quota").Result()
	if err != nil {
		return store.User{}, wrap("user by id", err)
	}
	if v[0] == nil {
		return store.User{}, wrap("user by id", errorf(store.ErrNotFound, "user %s", id))
	}
	return parseUser([]string{id, str(v[0]), str(v[1]), str(v[2]), str(v[3])})
}

// Users returns all users, sorted by address.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	v, err := db.run(ctx, scripts.users, dirKey).StringSlice()
	if err != nil {
		return nil, wrap("users", err)
	}
	var out []store.User
	for i := 0; i+5 <= len(v); i += 5 {
		u, err := parseUser(v[i : i+5])
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b store.User) int { return strings.Compare(a.Address, b.Address) })
	return out, nil
}

// parseUser reads {id, address, hash, created[, quota]}; a missing or
// empty quota (users made before quotas existed) is store.QuotaDefault.
func parseUser(v []string) (store.User, error) {
	if len(v) != 4 && len(v) != 5 {
		return store.User{}, fmt.Errorf("redis: user record has %d fields", len(v))
	}
	ns, err := strconv.ParseInt(v[3], 10, 64)
	if err != nil {
		return store.User{}, fmt.Errorf("redis: user %s: created %q", v[0], v[3])
	}
	u := store.User{ID: v[0], Address: v[1], PasswordHash: v[2], Created: time.Unix(0, ns).UTC()}
	if len(v) == 5 && v[4] != "" {
		if u.Quota, err = strconv.ParseInt(v[4], 10, 64); err != nil {
			return store.User{}, fmt.Errorf("redis: user %s: quota %q", v[0], v[4])
		}
	}
	return u, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// AddAlias adds targets to the alias source.
func (db *DB) AddAlias(ctx context.Context, source string, targets []string) error {
	source, domain, norm, err := store.CheckAlias(source, targets)
	if err != nil {
		return wrap("add alias", err)
	}
	args := []any{source, domain}
	for _, t := range norm {
		args = append(args, t)
	}
	return wrap("add alias", db.run(ctx, scripts.addAlias, dirKey, args...).Err())
}

// DeleteAlias removes targets from source, or all of source when targets is
// empty.
func (db *DB) DeleteAlias(ctx context.Context, source string, targets []string) error {
	source = store.NormAddress(source)
	_, domain, _ := store.SplitAddress(source)
	args := []any{source, domain}
	for _, t := range targets {
		args = append(args, store.NormAddress(t))
	}
	return wrap("delete alias", db.run(ctx, scripts.deleteAlias, dirKey, args...).Err())
}

// AliasTargets returns the targets of source, sorted, or nil.
func (db *DB) AliasTargets(ctx context.Context, source string) ([]string, error) {
	out, err := db.rdb.SMembers(ctx, "{dir}:alias:"+store.NormAddress(source)).Result()
	if err != nil {
		return nil, wrap("alias targets", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	slices.Sort(out)
	return out, nil
}

// Aliases returns every alias with its sorted targets.
func (db *DB) Aliases(ctx context.Context) (map[string][]string, error) {
	v, err := db.run(ctx, scripts.aliases, dirKey).Slice()
	if err != nil {
		return nil, wrap("aliases", err)
	}
	out := map[string][]string{}
	for i := 0; i+2 <= len(v); i += 2 {
		var targets []string
		list, _ := v[i+1].([]any)
		for _, t := range list {
			targets = append(targets, str(t))
		}
		slices.Sort(targets)
		out[str(v[i])] = targets
	}
	return out, nil
}

// newMailboxID returns a random mailbox ID: 8 bytes, hex. IDs are unique
// across users (a client holding one never reaches another user's mailbox:
// keys are per user anyway) and practically never repeat within a user.
func newMailboxID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
