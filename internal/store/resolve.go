package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bucketmail/bucketmail/internal/fault"
)

// ErrNotLocal is returned (wrapped) by Resolve for an address whose domain
// is not one of ours. It is permanent.
var ErrNotLocal = fault.Permanent(errors.New("store: domain not local"))

// maxAliasDepth bounds alias chains (and so loops).
const maxAliasDepth = 10

// Resolution is where mail to an address goes: local users (deduplicated)
// and addresses outside our domains that aliases point to.
type Resolution struct {
	Users    []User
	External []string
}

// Resolve finds the recipients of mail to address, in this order: the user
// with that address; the alias with that source (targets resolved in turn,
// up to maxAliasDepth levels, each address at most once so loops end); for
// user+tag@domain, user@domain resolved the same way; the catch-all alias
// "@domain". Addresses are compared lower-case. An unknown address gives
// ErrNotFound, a domain not in dir gives ErrNotLocal, a malformed address
// ErrInvalid (all wrapped). Alias targets that resolve to nothing are
// skipped; if nothing is left the result is ErrNotFound.
func Resolve(ctx context.Context, dir Directory, address string) (Resolution, error) {
	r := &resolver{ctx: ctx, dir: dir, seen: map[string]bool{}, local: map[string]bool{}, users: map[string]bool{}}
	address = strings.ToLower(strings.TrimSpace(address))
	_, domain, ok := splitAddress(address)
	if !ok {
		return Resolution{}, fmt.Errorf("store: resolve %q: %w", address, ErrInvalid)
	}
	local, err := r.isLocal(domain)
	if err != nil {
		return Resolution{}, err
	}
	if !local {
		return Resolution{}, fmt.Errorf("store: resolve %q: %w", address, ErrNotLocal)
	}
	found, err := r.resolve(address, 0)
	if err != nil {
		return Resolution{}, err
	}
	if !found || len(r.res.Users)+len(r.res.External) == 0 {
		return Resolution{}, fmt.Errorf("store: resolve %q: %w", address, ErrNotFound)
	}
	return r.res, nil
}

type resolver struct {
	ctx   context.Context
	dir   Directory
	res   Resolution
	seen  map[string]bool // addresses and catch-alls already expanded
	local map[string]bool // domain → ours, cached for this call
	users map[string]bool // IDs in res.Users
}

// resolve adds the recipients of the local address addr and reports
// whether addr exists (as a user, alias, plus-address or catch-all).
func (r *resolver) resolve(addr string, depth int) (bool, error) {
	if depth > maxAliasDepth || r.seen[addr] {
		return false, nil
	}
	r.seen[addr] = true
	found, err := r.exact(addr, depth)
	if found || err != nil {
		return found, err
	}
	localPart, domain, _ := splitAddress(addr)
	// RFC 5233 subaddressing: user+tag@domain is user@domain.
	if i := strings.IndexByte(localPart, '+'); i > 0 {
		return r.resolve(localPart[:i]+"@"+domain, depth)
	}
	catchAll := "@" + domain
	if r.seen[catchAll] {
		return false, nil
	}
	r.seen[catchAll] = true
	return r.alias(catchAll, depth)
}

// exact resolves addr as a user or as an alias source, nothing else.
func (r *resolver) exact(addr string, depth int) (bool, error) {
	u, err := r.dir.UserByAddress(r.ctx, addr)
	if err == nil {
		if !r.users[u.ID] {
			r.users[u.ID] = true
			r.res.Users = append(r.res.Users, u)
		}
		return true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("store: resolve %q: %w", addr, err)
	}
	return r.alias(addr, depth)
}

// alias expands the targets of source, if it is an alias.
func (r *resolver) alias(source string, depth int) (bool, error) {
	targets, err := r.dir.AliasTargets(r.ctx, source)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("store: resolve %q: %w", source, err)
	}
	if len(targets) == 0 {
		return false, nil
	}
	for _, t := range targets {
		if err := r.target(strings.ToLower(strings.TrimSpace(t)), depth+1); err != nil {
			return false, err
		}
	}
	return true, nil
}

// target adds one alias target: local ones are resolved, others are kept
// as external addresses.
func (r *resolver) target(t string, depth int) error {
	_, domain, ok := splitAddress(t)
	if !ok {
		return nil // not an address; the directory should not hold it
	}
	local, err := r.isLocal(domain)
	if err != nil {
		return err
	}
	if !local {
		if !r.seen[t] {
			r.seen[t] = true
			r.res.External = append(r.res.External, t)
		}
		return nil
	}
	_, err = r.resolve(t, depth)
	return err
}

func (r *resolver) isLocal(domain string) (bool, error) {
	if v, ok := r.local[domain]; ok {
		return v, nil
	}
	v, err := r.dir.HasDomain(r.ctx, domain)
	if err != nil {
		return false, fmt.Errorf("store: resolve domain %q: %w", domain, err)
	}
	r.local[domain] = v
	return v, nil
}

// splitAddress splits local@domain at the last "@"; both parts must be
// non-empty.
func splitAddress(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}
