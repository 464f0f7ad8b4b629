package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bucketmail/bucketmail/internal/store"
)

const domainSynopsis = "bucketmail domain add|del DOMAIN | bucketmail domain list [FLAGS]"

func (a *app) cmdDomain(ctx context.Context, args []string) error {
	verb, rest, err := subcommand(args, "add", "del", "list")
	if err != nil {
		return err
	}
	if verb == "help" {
		return a.showHelp("domain", domainSynopsis)
	}
	c, err := a.openAdmin("domain "+verb, domainSynopsis, rest, nil)
	if err != nil {
		return wrapVerb(verb, err)
	}
	switch verb {
	case "add":
		err = c.domainAdd(ctx)
	case "del":
		err = c.domainDel(ctx)
	case "list":
		err = c.domainList(ctx, a)
	}
	return wrapVerb(verb, c.done(err))
}

// domain is the DOMAIN argument of a command on an existing domain: the
// form store.CheckDomain returns when it passes, else the lower-cased
// argument, so a domain made before the checks existed can be deleted.
func (c *adminCmd) domain() (string, error) {
	if err := c.wantArgs(1, 1, "one DOMAIN"); err != nil {
		return "", err
	}
	if d, err := newDomain(c.args[0]); err == nil {
		return d, nil
	}
	d := strings.ToLower(c.args[0])
	if !validDomain(d) {
		return "", usagef("%q is not a domain name", c.args[0])
	}
	return d, nil
}

func (c *adminCmd) domainAdd(ctx context.Context) error {
	if err := c.wantArgs(1, 1, "one DOMAIN"); err != nil {
		return err
	}
	d, err := newDomain(c.args[0])
	if err != nil {
		return err
	}
	err = c.store.AddDomain(ctx, d)
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("domain %s already exists", d)
	}
	return err
}

func (c *adminCmd) domainDel(ctx context.Context) error {
	d, err := c.domain()
	if err != nil {
		return err
	}
	err = c.store.DeleteDomain(ctx, d)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("domain %s does not exist", d)
	case errors.Is(err, store.ErrInUse):
		return fmt.Errorf("domain %s still has users or aliases; delete them first", d)
	}
	return err
}

func (c *adminCmd) domainList(ctx context.Context, a *app) error {
	if err := c.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	ds, err := c.store.Domains(ctx)
	if err != nil {
		return err
	}
	for _, d := range ds {
		fmt.Fprintln(a.stdout, d)
	}
	return nil
}

// wrapVerb prefixes err with the subcommand ("add: ..."), keeping its kind.
func wrapVerb(verb string, err error) error {
	if err == nil || errors.Is(err, errHelpShown) {
		return err
	}
	var ue usageError
	if errors.As(err, &ue) {
		return usageError{verb + ": " + ue.msg}
	}
	return fmt.Errorf("%s: %w", verb, err)
}

// showHelp prints the synopsis of an admin command and its storage flags.
func (a *app) showHelp(name, synopsis string) error {
	var s storageConfig
	fs := newFlagSet(name)
	s.register(fs)
	a.flagUsage(fs, synopsis)
	return errHelpShown
}
