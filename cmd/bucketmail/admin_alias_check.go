package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

// maxAliasWalk bounds the addresses aliasLoop looks at.
const maxAliasWalk = 1000

// validTarget is validAddress, refusing control characters too (a target
// ends up in an envelope and in a Delivered-To line). A bad target is a
// refused change, not a usage error: exit 1.
func validTarget(t string) (string, error) {
	if strings.IndexFunc(t, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return "", fmt.Errorf("target %q is not an address (control characters)", t)
	}
	addr, err := validAddress(t)
	if err != nil {
		return "", fmt.Errorf("target %q is not an address (want local@domain)", strings.TrimSpace(t))
	}
	return addr, nil
}

// aliasWalk follows the aliases of the directory, with source → targets
// added, the way store.Resolve does: a user ends a path, an alias leads to
// its targets, user+tag to user, an address that is neither to the
// catch-all of its domain.
type aliasWalk struct {
	ctx     context.Context
	dir     store.Directory
	source  string
	targets []string
	local   map[string]bool
	seen    map[string]bool
}

// aliasLoop returns the chain of addresses by which mail to source would
// come back to source once source → targets is added, or nil.
func aliasLoop(ctx context.Context, dir store.Directory, source string, targets []string) ([]string, error) {
	w := &aliasWalk{ctx: ctx, dir: dir, source: source, targets: targets, local: map[string]bool{}, seen: map[string]bool{}}
	for _, t := range targets {
		path, err := w.walk(t, []string{source})
		if path != nil || err != nil {
			return path, err
		}
	}
	return nil, nil
}

// walk follows addr, reached by path, and returns the path back to source.
func (w *aliasWalk) walk(addr string, path []string) ([]string, error) {
	path = append(path, addr)
	if addr == w.source {
		return path, nil
	}
	if w.seen[addr] || len(w.seen) >= maxAliasWalk {
		return nil, nil
	}
	w.seen[addr] = true
	next, err := w.next(addr)
	if err != nil {
		return nil, err
	}
	for _, n := range next {
		if loop, err := w.walk(strings.ToLower(n), path); loop != nil || err != nil {
			return loop, err
		}
	}
	return nil, nil
}

// next returns where mail to addr goes on from addr.
func (w *aliasWalk) next(addr string) ([]string, error) {
	local, domain, _ := strings.Cut(strings.TrimPrefix(addr, "@"), "@")
	if strings.HasPrefix(addr, "@") {
		domain, local = local, ""
	}
	ours, err := w.isLocal(domain)
	if err != nil || !ours {
		return nil, err
	}
	if local != "" {
		if _, err := w.dir.UserByAddress(w.ctx, addr); err == nil {
			return nil, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	targets, err := w.aliasTargets(addr)
	if len(targets) > 0 || err != nil || local == "" {
		return targets, err
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		return []string{local[:i] + "@" + domain}, nil
	}
	return []string{"@" + domain}, nil
}

func (w *aliasWalk) aliasTargets(source string) ([]string, error) {
	if source == w.source {
		return w.targets, nil
	}
	t, err := w.dir.AliasTargets(w.ctx, source)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

func (w *aliasWalk) isLocal(domain string) (bool, error) {
	if v, ok := w.local[domain]; ok {
		return v, nil
	}
	v, err := w.dir.HasDomain(w.ctx, domain)
	if err != nil {
		return false, fmt.Errorf("looking up domain %s: %w", domain, err)
	}
	w.local[domain] = v
	return v, nil
}
