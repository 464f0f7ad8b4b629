package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/quota"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/store"
)

const userSynopsis = "bucketmail user add|passwd ADDRESS [--password-stdin] | user del ADDRESS | user quota ADDRESS [SIZE|default|unlimited] | user list [FLAGS]"

// maxPasswordLen bounds what --password-stdin reads.
const maxPasswordLen = 1024

func (a *app) cmdUser(ctx context.Context, args []string) error {
	verb, rest, err := subcommand(args, "add", "del", "list", "passwd", "quota")
	if err != nil {
		return err
	}
	if verb == "help" {
		return a.showHelp("user", userSynopsis)
	}
	var fromStdin bool
	extra := func(fs *flag.FlagSet) {
		if verb == "add" || verb == "passwd" {
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input instead of generating one")
		}
	}
	c, err := a.openAdmin("user "+verb, userSynopsis, rest, extra)
	if err != nil {
		return wrapVerb(verb, err)
	}
	switch verb {
	case "add":
		err = c.userAdd(ctx, a, fromStdin)
	case "passwd":
		err = c.userPasswd(ctx, a, fromStdin)
	case "del":
		err = c.userDel(ctx)
	case "list":
		err = c.userList(ctx, a)
	case "quota":
		err = c.userQuota(ctx, a)
	}
	return wrapVerb(verb, c.done(err))
}

func (c *adminCmd) address() (string, error) {
	if err := c.wantArgs(1, 1, "one ADDRESS"); err != nil {
		return "", err
	}
	return validAddress(c.args[0])
}

// readPassword reads the password from the first line of stdin.
func readPassword(a *app) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(a.stdin, maxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case pw == "":
		return "", usagef("empty password on standard input")
	case len(pw) > maxPasswordLen:
		return "", usagef("password longer than %d bytes", maxPasswordLen)
	}
	return pw, nil
}

// newPassword reads the password from stdin or generates one, and hashes it.
func newPassword(a *app, fromStdin bool) (pw, hash string, err error) {
	if fromStdin {
		if pw, err = readPassword(a); err != nil {
			return "", "", err
		}
	} else {
		pw = auth.GeneratePassword()
	}
	hash, err = auth.HashPassword(pw)
	return pw, hash, err
}

func (c *adminCmd) userAdd(ctx context.Context, a *app, fromStdin bool) error {
	if err := c.wantArgs(1, 1, "one ADDRESS"); err != nil {
		return err
	}
	addr, err := newAddress(c.args[0])
	if err != nil {
		return err
	}
	ok, err := c.store.HasDomain(ctx, domainOf(addr))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("domain %s does not exist", domainOf(addr))
	}
	// Read a given password before anything is created, but print a
	// generated one only once the user exists.
	pw, hash, err := newPassword(a, fromStdin)
	if err != nil {
		return err
	}
	u, err := c.store.AddUser(ctx, addr, hash)
	switch {
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%s already exists as a user or alias", addr)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("domain %s does not exist", domainOf(addr))
	case err != nil:
		return err
	}
	if err := c.store.EnsureUser(ctx, u.ID); err != nil {
		return fmt.Errorf("creating mailboxes of %s: %w", addr, err)
	}
	if !fromStdin {
		fmt.Fprintf(a.stdout, "password: %s\n", pw)
	}
	return nil
}

func (c *adminCmd) userPasswd(ctx context.Context, a *app, fromStdin bool) error {
	addr, err := c.address()
	if err != nil {
		return err
	}
	if _, err := c.store.UserByAddress(ctx, addr); err != nil {
		return userErr(addr, err)
	}
	pw, hash, err := newPassword(a, fromStdin)
	if err != nil {
		return err
	}
	if err := c.store.SetPassword(ctx, addr, hash); err != nil {
		return userErr(addr, err)
	}
	if !fromStdin {
		fmt.Fprintf(a.stdout, "password: %s\n", pw)
	}
	return nil
}

// userDel deletes the user and everything in their mailboxes. The purge
// runs before and after the deletion: the second one catches a delivery
// that raced with it.
func (c *adminCmd) userDel(ctx context.Context) error {
	addr, err := c.address()
	if err != nil {
		return err
	}
	u, err := c.store.UserByAddress(ctx, addr)
	if err != nil {
		return userErr(addr, err)
	}
	if err := c.purge(ctx, u.ID); err != nil {
		return err
	}
	if err := c.store.DeleteUser(ctx, addr); err != nil {
		return userErr(addr, err)
	}
	if err := c.purge(ctx, u.ID); err != nil {
		return err
	}
	// The user's search segments (cloud); none with the SQLite store.
	return search.DeleteUser(ctx, c.blobs, u.ID)
}

func (c *adminCmd) purge(ctx context.Context, userID string) error {
	// The objects left without a reference are scheduled for deletion:
	// the collector of a running worker deletes them after --gc-delay.
	if err := c.store.PurgeUser(ctx, userID); err != nil {
		return fmt.Errorf("purging mailboxes: %w", err)
	}
	return nil
}

func (c *adminCmd) userList(ctx context.Context, a *app) error {
	if err := c.wantArgs(0, 0, "no arguments"); err != nil {
		return err
	}
	users, err := c.store.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, u := range users {
		usage, err := c.store.Usage(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("usage of %s: %w", u.Address, err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Address, u.ID, u.Created.UTC().Format(time.RFC3339),
			quota.FormatSize(usage), quotaText(u.Quota))
	}
	return tw.Flush()
}

// quotaText shows a user's own quota; "default" is --default-quota of the
// servers, which this command does not know.
func quotaText(q int64) string {
	switch q {
	case store.QuotaDefault:
		return "default"
	case store.QuotaUnlimited:
		return "unlimited"
	}
	return quota.FormatSize(q)
}

// userQuota sets a user's quota (user quota ADDRESS SIZE) or shows its
// usage and quota (user quota ADDRESS).
func (c *adminCmd) userQuota(ctx context.Context, a *app) error {
	if err := c.wantArgs(1, 2, "ADDRESS [SIZE|default|unlimited]"); err != nil {
		return err
	}
	addr, err := validAddress(c.args[0])
	if err != nil {
		return err
	}
	if len(c.args) == 2 {
		n, err := quota.ParseSize(c.args[1])
		if err != nil {
			return err // a refused value, not a misused command: exit 1
		}
		return userErr(addr, c.store.SetQuota(ctx, addr, n))
	}
	u, err := c.store.UserByAddress(ctx, addr)
	if err != nil {
		return userErr(addr, err)
	}
	usage, err := c.store.Usage(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "usage: %s (%d bytes)\nquota: %s\n", quota.FormatSize(usage), usage, quotaText(u.Quota))
	return nil
}

func userErr(addr string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("user %s does not exist", addr)
	}
	return err
}
