package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// AddDomain adds a local domain.
func (db *DB) AddDomain(ctx context.Context, domain string) error {
	domain, err := store.CheckNewDomain(domain)
	if err != nil {
		return wrap("add domain", err)
	}
	return db.write(ctx, "add domain", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO domains(name) VALUES (?)", domain)
		return err
	})
}

// DeleteDomain removes a domain without users or aliases.
func (db *DB) DeleteDomain(ctx context.Context, domain string) error {
	domain = store.NormAddress(domain)
	return db.write(ctx, "delete domain", func(tx *sql.Tx) error {
		var users, aliases int
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM users WHERE domain = ?),
			(SELECT count(*) FROM aliases WHERE domain = ?)`, domain, domain).Scan(&users, &aliases)
		if err != nil {
			return err
		}
		if users+aliases > 0 {
			return errorf(store.ErrInUse, "domain %s has %d users and %d alias entries", domain, users, aliases)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM domains WHERE name = ?", domain)
		if err != nil {
			return err
		}
		return mustAffect(res, "domain %s", domain)
	})
}

// Domains returns the local domains, sorted.
func (db *DB) Domains(ctx context.Context) ([]string, error) {
	var out []string
	err := db.read(ctx, "domains", func(tx *sql.Tx) error {
		var err error
		out, err = queryStrings(ctx, tx, "SELECT name FROM domains ORDER BY name")
		return err
	})
	return out, err
}

// HasDomain reports whether domain is local.
func (db *DB) HasDomain(ctx context.Context, domain string) (bool, error) {
	domain = store.NormAddress(domain)
	var n int
	err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM domains WHERE name = ?", domain).Scan(&n)
	return n > 0, wrap("has domain", err)
}

// AddUser creates a user with a new random ID.
func (db *DB) AddUser(ctx context.Context, address, passwordHash string) (store.User, error) {
	address, domain, err := store.CheckUserAddress(address)
	if err != nil {
		return store.User{}, wrap("add user", err)
	}
	u := store.User{ID: store.NewID(), Address: address, PasswordHash: passwordHash, Created: time.Now().UTC()}
	err = db.write(ctx, "add user", func(tx *sql.Tx) error {
		if err := needDomain(ctx, tx, domain); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM aliases WHERE source = ?", address).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errorf(store.ErrExists, "%s is an alias", address)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO users(id, address, domain, password_hash, created) VALUES (?, ?, ?, ?, ?)",
			u.ID, u.Address, domain, u.PasswordHash, u.Created.UnixNano())
		return err
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// DeleteUser removes a user from the directory. Its mailboxes stay until
// PurgeUser.
func (db *DB) DeleteUser(ctx context.Context, address string) error {
	address = store.NormAddress(address)
	return db.write(ctx, "delete user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE address = ?", address)
		if err != nil {
			return err
		}
		return mustAffect(res, "user %s", address)
	})
}

// SetPassword replaces a user's password hash.
func (db *DB) SetPassword(ctx context.Context, address, passwordHash string) error {
	address = store.NormAddress(address)
	return db.write(ctx, "set password", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE address = ?", passwordHash, address)
		if err != nil {
			return err
		}
		return mustAffect(res, "user %s", address)
	})
}

// SetQuota sets a user's storage quota (see store.User.Quota).
func (db *DB) SetQuota(ctx context.Context, address string, bytes int64) error {
	address = store.NormAddress(address)
	if err := store.CheckQuota(bytes); err != nil {
		return wrap("set quota", err)
	}
	return db.write(ctx, "set quota", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET quota = ? WHERE address = ?", bytes, address)
		if err != nil {
			return err
		}
		return mustAffect(res, "user %s", address)
	})
}

// UserByAddress returns the user with address.
func (db *DB) UserByAddress(ctx context.Context, address string) (store.User, error) {
	return db.user(ctx, "user by address", "address", store.NormAddress(address))
}

// UserByID returns the user with id.
func (db *DB) UserByID(ctx context.Context, id string) (store.User, error) {
	return db.user(ctx, "user by id", "id", id)
}

func (db *DB) user(ctx context.Context, op, column, value string) (store.User, error) {
	// column is one of our constants, never input.
	row := db.r.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE "+column+" = ?", value)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errorf(store.ErrNotFound, "user %s", value)
	}
	return u, wrap(op, err)
}

// Users returns all users, sorted by address.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	var out []store.User
	err := db.read(ctx, "users", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY address")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

type scanner interface{ Scan(dest ...any) error }

// userColumns are the columns scanUser reads, in its order.
const userColumns = "id, address, password_hash, created, quota"

func scanUser(s scanner) (store.User, error) {
	var u store.User
	var created int64
	err := s.Scan(&u.ID, &u.Address, &u.PasswordHash, &created, &u.Quota)
	u.Created = time.Unix(0, created).UTC()
	return u, err
}

// AddAlias adds targets to the alias source.
func (db *DB) AddAlias(ctx context.Context, source string, targets []string) error {
	source, domain, norm, err := store.CheckAlias(source, targets)
	if err != nil {
		return wrap("add alias", err)
	}
	return db.write(ctx, "add alias", func(tx *sql.Tx) error {
		if err := needDomain(ctx, tx, domain); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE address = ?", source).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errorf(store.ErrExists, "%s is a user", source)
		}
		for _, t := range norm {
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO aliases(source, target, domain) VALUES (?, ?, ?)", source, t, domain); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteAlias removes targets from source, or all of source when targets is
// empty.
func (db *DB) DeleteAlias(ctx context.Context, source string, targets []string) error {
	source = store.NormAddress(source)
	return db.write(ctx, "delete alias", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM aliases WHERE source = ?", source).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errorf(store.ErrNotFound, "alias %s", source)
		}
		if len(targets) == 0 {
			_, err := tx.ExecContext(ctx, "DELETE FROM aliases WHERE source = ?", source)
			return err
		}
		for _, t := range targets {
			if _, err := tx.ExecContext(ctx, "DELETE FROM aliases WHERE source = ? AND target = ?", source, store.NormAddress(t)); err != nil {
				return err
			}
		}
		return nil
	})
}

// AliasTargets returns the targets of source, sorted, or nil.
func (db *DB) AliasTargets(ctx context.Context, source string) ([]string, error) {
	var out []string
	err := db.read(ctx, "alias targets", func(tx *sql.Tx) error {
		var err error
		out, err = queryStrings(ctx, tx, "SELECT target FROM aliases WHERE source = ? ORDER BY target", store.NormAddress(source))
		return err
	})
	return out, err
}

// Aliases returns every alias with its sorted targets.
func (db *DB) Aliases(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	err := db.read(ctx, "aliases", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT source, target FROM aliases ORDER BY source, target")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s, t string
			if err := rows.Scan(&s, &t); err != nil {
				return err
			}
			out[s] = append(out[s], t)
		}
		return rows.Err()
	})
	return out, err
}

func needDomain(ctx context.Context, tx *sql.Tx, domain string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM domains WHERE name = ?", domain).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errorf(store.ErrNotFound, "domain %s", domain)
	}
	return nil
}

func mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errorf(store.ErrNotFound, format, args...)
	}
	return nil
}

func queryStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
