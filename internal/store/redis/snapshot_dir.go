package redis

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// dirImportChunk is how many users or aliases one dir_import.lua call adds:
// the import need not be atomic (it only adds), and small scripts keep
// Redis responsive.
const dirImportChunk = 500

// ExportDirectory reads the whole directory in one script (dir_export.lua).
func (db *DB) ExportDirectory(ctx context.Context) (*store.DirectorySnapshot, error) {
	v, err := db.run(ctx, scripts.dirExport, dirKey).Slice()
	if err != nil {
		return nil, wrap("export directory", err)
	}
	snap := &store.DirectorySnapshot{Version: store.SnapshotVersion, Taken: time.Now().UTC(),
		Domains: []string{}, Aliases: map[string][]string{}}
	strs := func(x any) []string {
		list, _ := x.([]any)
		out := make([]string, 0, len(list))
		for _, s := range list {
			out = append(out, str(s))
		}
		return out
	}
	if len(v) != 3 {
		return nil, wrap("export directory", errorf(store.ErrInvalid, "script reply of %d parts", len(v)))
	}
	snap.Domains = strs(v[0])
	slices.Sort(snap.Domains)
	users := strs(v[1])
	for i := 0; i+5 <= len(users); i += 5 {
		u, err := parseUser(users[i : i+5])
		if err != nil {
			return nil, wrap("export directory", err)
		}
		snap.Users = append(snap.Users, u)
	}
	slices.SortFunc(snap.Users, func(a, b store.User) int { return strings.Compare(a.Address, b.Address) })
	aliases, _ := v[2].([]any)
	for i := 0; i+2 <= len(aliases); i += 2 {
		targets := strs(aliases[i+1])
		slices.Sort(targets)
		snap.Aliases[str(aliases[i])] = targets
	}
	return snap, nil
}

// ImportDirectory adds what snap has and the directory lacks: domains,
// users (with their IDs, password hashes and creation times) and alias
// targets. Entries that conflict with existing ones (an address taken by
// another user or by an alias, a user ID taken) are left as they are.
func (db *DB) ImportDirectory(ctx context.Context, snap *store.DirectorySnapshot) error {
	const op = "import directory"
	if err := store.CheckDirectorySnapshot(snap); err != nil {
		return wrap(op, err)
	}
	var domains []any
	for _, d := range snap.Domains {
		d = store.NormAddress(d)
		if d == "" || strings.ContainsAny(d, "@ \t\r\n{}") {
			return wrap(op, errorf(store.ErrInvalid, "domain %q", d))
		}
		domains = append(domains, d)
	}
	users := []any{"u"}
	for _, u := range snap.Users {
		addr, domain, err := store.CheckImportedUser(u)
		if err == nil && !validUserID(u.ID) {
			err = errorf(store.ErrInvalid, "user %q (%q)", addr, u.ID)
		}
		if err != nil {
			return wrap(op, err)
		}
		created := u.Created
		if created.IsZero() {
			created = time.Now()
		}
		users = append(users, u.ID, addr, domain, u.PasswordHash, created.UnixNano(), u.Quota)
	}
	var aliases [][]any // one call's arguments per chunk of aliases
	for source, targets := range snap.Aliases {
		source, domain, err := store.CheckImportedAlias(source)
		if err != nil {
			return wrap(op, err)
		}
		if len(aliases) == 0 || len(aliases[len(aliases)-1]) >= 4*dirImportChunk {
			aliases = append(aliases, []any{"a"})
		}
		a := append(aliases[len(aliases)-1], source, domain, len(targets))
		for _, t := range targets {
			a = append(a, store.NormAddress(t))
		}
		aliases[len(aliases)-1] = a
	}
	if len(domains) > 0 {
		if err := db.rdb.SAdd(ctx, dirKey, domains...).Err(); err != nil {
			return wrap(op, err)
		}
	}
	for i := 1; i < len(users); i += 6 * dirImportChunk {
		chunk := append([]any{"u"}, users[i:min(i+6*dirImportChunk, len(users))]...)
		if err := db.run(ctx, scripts.dirImport, dirKey, chunk...).Err(); err != nil {
			return wrap(op, err)
		}
	}
	for _, a := range aliases {
		if err := db.run(ctx, scripts.dirImport, dirKey, a...).Err(); err != nil {
			return wrap(op, err)
		}
	}
	return nil
}
