package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

const aliasSynopsis = "bucketmail alias add SOURCE TARGET... | alias del SOURCE [TARGET...] | alias list [FLAGS]\n  (SOURCE \"@domain\" is the catch-all of the domain)"

func (a *app) cmdAlias(ctx context.Context, args []string) error {
	verb, rest, err := subcommand(args, "add", "del", "list")
	if err != nil {
		return err
	}
	if verb == "help" {
		return a.showHelp("alias", aliasSynopsis)
	}
	c, err := a.openAdmin("alias "+verb, aliasSynopsis, rest, nil)
	if err != nil {
		return wrapVerb(verb, err)
	}
	switch verb {
	case "add":
		err = c.aliasAdd(ctx)
	case "del":
		err = c.aliasDel(ctx)
	case "list":
		err = c.aliasList(ctx, a)
	}
	return wrapVerb(verb, c.done(err))
}

// aliasArgs returns the validated source and targets.
func (c *adminCmd) aliasArgs() (string, []string, error) {
	source := strings.ToLower(c.args[0])
	if strings.HasPrefix(source, "@") {
		if !validDomain(source[1:]) {
			return "", nil, usagef("%q is not a catch-all (want @domain)", c.args[0])
		}
	} else {
		var err error
		if source, err = validAddress(source); err != nil {
			return "", nil, err
		}
	}
	var targets []string
	for _, t := range c.args[1:] {
		addr, err := validTarget(t)
		if err != nil {
			return "", nil, err
		}
		targets = append(targets, addr)
	}
	return source, targets, nil
}

func (c *adminCmd) aliasAdd(ctx context.Context) error {
	if err := c.wantArgs(2, -1, "SOURCE and at least one TARGET"); err != nil {
		return err
	}
	source, targets, err := c.aliasArgs()
	if err != nil {
		return err
	}
	if source, targets, err = checkNewAlias(source, targets); err != nil {
		return err
	}
	loop, err := aliasLoop(ctx, c.store, source, targets)
	if err != nil {
		return err
	}
	if loop != nil {
		return fmt.Errorf("%s would loop: %s", source, strings.Join(loop, " -> "))
	}
	err = c.store.AddAlias(ctx, source, targets)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("domain %s does not exist", domainOf(source))
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%s is a user; an alias cannot shadow it", source)
	}
	return err
}

func (c *adminCmd) aliasDel(ctx context.Context) error {
	if err := c.wantArgs(1, -1, "SOURCE and optional TARGETs"); err != nil {
		return err
	}
	source, targets, err := c.aliasArgs()
	if err != nil {
		return err
	}
	err = c.store.DeleteAlias(ctx, source, targets)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("alias %s does not exist", source)
	}
	return err
}

// aliasList prints one alias a line: the source, then its targets; a
// target outside our domains, which gets a forwarded copy with an SRS
// sender, is followed by "(outside)".
func (c *adminCmd) aliasList(ctx context.Context, a *app) error {
	if err := c.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	aliases, err := c.store.Aliases(ctx)
	if err != nil {
		return err
	}
	sources := make([]string, 0, len(aliases))
	for s := range aliases {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	local := map[string]bool{}
	for _, s := range sources {
		targets := make([]string, len(aliases[s]))
		for i, t := range aliases[s] {
			targets[i] = t
			d := strings.ToLower(domainOf(t))
			ours, ok := local[d]
			if !ok {
				if ours, err = c.store.HasDomain(ctx, d); err != nil {
					return err
				}
				local[d] = ours
			}
			if !ours {
				targets[i] += " (outside)"
			}
		}
		fmt.Fprintf(a.stdout, "%s %s\n", s, strings.Join(targets, " "))
	}
	return nil
}

// checkNewAlias applies the checks of new entries (store.CheckAddress) to
// the source and targets of an alias being added; aliasArgs stays lenient so
// that entries made before the checks can still be deleted.
func checkNewAlias(source string, targets []string) (string, []string, error) {
	if !strings.HasPrefix(source, "@") {
		s, err := store.CheckAddress(source)
		if err != nil {
			return "", nil, err
		}
		source = s
	}
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		a, err := store.CheckAddress(t)
		if err != nil {
			return "", nil, fmt.Errorf("target: %w", err)
		}
		out = append(out, a)
	}
	return source, out, nil
}
