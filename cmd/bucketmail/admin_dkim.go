package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bucketmail/bucketmail/internal/domainkeys"
)

const dkimSynopsis = "bucketmail dkim keygen DOMAIN [--selector S] [--algorithm ed25519|rsa2048] | dkim list [DOMAIN] | dkim del DOMAIN SELECTOR [FLAGS]"

// dkimFlags are the flags of dkim keygen.
type dkimFlags struct {
	selector  string
	algorithm string
}

func (f *dkimFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.selector, "selector", "", "DKIM selector (default bm<yyyymm> plus e for ed25519, r for rsa2048)")
	fs.StringVar(&f.algorithm, "algorithm", domainkeys.Ed25519, "key algorithm: ed25519 or rsa2048")
}

func (a *app) cmdDKIM(ctx context.Context, args []string) error {
	verb, rest, err := subcommand(args, "keygen", "list", "del")
	if err != nil {
		return err
	}
	if verb == "help" {
		var f dkimFlags
		var s storageConfig
		fs := newFlagSet("dkim")
		s.register(fs)
		f.register(fs)
		a.flagUsage(fs, dkimSynopsis)
		return errHelpShown
	}
	var f dkimFlags
	var extra func(*flag.FlagSet)
	if verb == "keygen" {
		extra = f.register
	}
	c, err := a.openAdmin("dkim "+verb, dkimSynopsis, rest, extra)
	if err != nil {
		return wrapVerb(verb, err)
	}
	switch verb {
	case "keygen":
		err = c.dkimKeygen(ctx, a, f)
	case "list":
		err = c.dkimList(ctx, a)
	case "del":
		err = c.dkimDel(ctx)
	}
	return wrapVerb(verb, c.done(err))
}

// localDomain checks that the first argument is a domain of the directory:
// only local domains send mail that we sign.
func (c *adminCmd) localDomain(ctx context.Context) (string, error) {
	d := strings.ToLower(c.args[0])
	if !validDomain(d) {
		return "", usagef("%q is not a domain name", c.args[0])
	}
	ds, err := c.store.Domains(ctx)
	if err != nil {
		return "", err
	}
	if !slices.Contains(ds, d) {
		return "", fmt.Errorf("%s is not a local domain (add it with bucketmail domain add)", d)
	}
	return d, nil
}

func (c *adminCmd) dkimKeygen(ctx context.Context, a *app, f dkimFlags) error {
	if err := c.wantArgs(1, 1, "one DOMAIN"); err != nil {
		return err
	}
	var suffix string
	switch f.algorithm {
	case domainkeys.Ed25519:
		suffix = "e"
	case domainkeys.RSA2048:
		suffix = "r"
	default:
		return usagef("--algorithm %q: want ed25519 or rsa2048", f.algorithm)
	}
	d, err := c.localDomain(ctx)
	if err != nil {
		return err
	}
	sel := f.selector
	if sel == "" {
		sel = "bm" + time.Now().UTC().Format("200601") + suffix
	}
	k, err := domainkeys.Generate(ctx, c.blobs, d, sel, f.algorithm)
	switch {
	case errors.Is(err, domainkeys.ErrExists):
		return fmt.Errorf("%s already has a key with selector %s (choose another with --selector)", d, sel)
	case errors.Is(err, domainkeys.ErrInvalid):
		return usagef("%q is not a valid selector", sel)
	case err != nil:
		return err
	}
	fmt.Fprintf(a.stdout, "selector: %s\nalgorithm: %s\n\nPublish this DNS TXT record; mail from %s is signed with the key from now on:\n%s. IN TXT %s\n",
		k.Selector, k.Algorithm, k.Domain, k.Record(), zoneTXT(k.TXT))
	return nil
}

func (c *adminCmd) dkimList(ctx context.Context, a *app) error {
	if err := c.wantArgs(0, 1, "at most one DOMAIN"); err != nil {
		return err
	}
	domain := ""
	if len(c.args) == 1 {
		domain = strings.ToLower(c.args[0])
		if !validDomain(domain) {
			return usagef("%q is not a domain name", c.args[0])
		}
	}
	keys, err := domainkeys.List(ctx, c.blobs, domain)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tSELECTOR\tALGORITHM\tCREATED\tTXT RECORD")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s. IN TXT %s\n", k.Domain, k.Selector, k.Algorithm,
			k.Created.UTC().Format(time.RFC3339), k.Record(), zoneTXT(k.TXT))
	}
	return tw.Flush()
}

func (c *adminCmd) dkimDel(ctx context.Context) error {
	if err := c.wantArgs(2, 2, "DOMAIN SELECTOR"); err != nil {
		return err
	}
	err := domainkeys.Delete(ctx, c.blobs, c.args[0], c.args[1])
	if errors.Is(err, domainkeys.ErrInvalid) {
		return usagef("%q %q is not a domain and selector", c.args[0], c.args[1])
	}
	return err
}

// zoneTXT quotes a TXT value for a zone file, cut into strings of at most
// 255 bytes (RFC 1035 section 3.3.14; RFC 6376 section 3.6.2.2 joins them).
func zoneTXT(v string) string {
	var parts []string
	for len(v) > 255 {
		parts = append(parts, `"`+v[:255]+`"`)
		v = v[255:]
	}
	return strings.Join(append(parts, `"`+v+`"`), " ")
}
