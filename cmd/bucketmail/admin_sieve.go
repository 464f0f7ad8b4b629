package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bucketmail/bucketmail/internal/sieve"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/store"
)

const sieveSynopsis = "bucketmail sieve put ADDRESS NAME FILE|- | sieve get ADDRESS NAME | sieve list ADDRESS | sieve activate ADDRESS [NAME] | sieve del ADDRESS NAME | sieve check FILE|-"

// maxScriptFile bounds what put and check read.
const maxScriptFile = 1 << 20

func (a *app) cmdSieve(ctx context.Context, args []string) error {
	verb, rest, err := subcommand(args, "put", "get", "list", "activate", "del", "check")
	if err != nil {
		return err
	}
	if verb == "help" {
		var s storageConfig
		fs := newFlagSet("sieve")
		s.register(fs)
		a.flagUsage(fs, sieveSynopsis)
		return errHelpShown
	}
	if verb == "check" {
		return wrapVerb(verb, a.sieveCheck(rest))
	}
	c, err := a.openAdmin("sieve "+verb, sieveSynopsis, rest, nil)
	if err != nil {
		return wrapVerb(verb, err)
	}
	return wrapVerb(verb, c.done(c.sieve(ctx, a, verb)))
}

// sieveCheck compiles a script and reports the first error with its line
// and column.
func (a *app) sieveCheck(args []string) error {
	if len(args) != 1 {
		return usagef("want one FILE or -")
	}
	src, err := a.readScript(args[0])
	if err != nil {
		return err
	}
	if _, err := sieve.Compile(src, sieve.Limits{}); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "ok")
	return nil
}

func (a *app) readScript(name string) (string, error) {
	var r io.Reader = a.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxScriptFile))
	return string(b), err
}

func (c *adminCmd) sieve(ctx context.Context, a *app, verb string) error {
	want := map[string][2]int{"put": {3, 3}, "get": {2, 2}, "list": {1, 1}, "activate": {1, 2}, "del": {2, 2}}[verb]
	if err := c.wantArgs(want[0], want[1], sieveSynopsis); err != nil {
		return err
	}
	addr, err := validAddress(c.args[0])
	if err != nil {
		return err
	}
	u, err := c.store.UserByAddress(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s", addr)
	}
	if err != nil {
		return err
	}
	s := &sievestore.Scripts{Blobs: c.blobs, Store: c.store}
	name := ""
	if len(c.args) > 1 {
		name = c.args[1]
	}
	switch verb {
	case "put":
		src, err := a.readScript(c.args[2])
		if err != nil {
			return err
		}
		return s.Put(ctx, u.ID, name, src)
	case "get":
		src, err := s.Get(ctx, u.ID, name)
		if err == nil {
			_, err = io.WriteString(a.stdout, src)
		}
		return err
	case "list":
		return sieveList(ctx, a, s, u.ID)
	case "activate":
		return s.SetActive(ctx, u.ID, name)
	}
	return s.Delete(ctx, u.ID, name)
}

func sieveList(ctx context.Context, a *app, s *sievestore.Scripts, uid string) error {
	list, err := s.List(ctx, uid)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range list {
		b.WriteString(e.Name)
		if e.Active {
			b.WriteString("\tactive")
		}
		b.WriteString("\n")
	}
	_, err = io.WriteString(a.stdout, b.String())
	return err
}
