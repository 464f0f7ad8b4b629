package main

import (
	"flag"
	"strings"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// adminCmd is an admin command with the storage it works on. Admin commands
// talk to the store directly, so they work while servers run (SQLite is
// multi-process) and every server sees the change at once.
type adminCmd struct {
	store store.Store
	blobs blob.Store
	args  []string // positional arguments
}

// subcommand splits "domain add x" into the verb and the rest.
func subcommand(args []string, verbs ...string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		return "", nil, usagef("missing subcommand (%s)", strings.Join(verbs, ", "))
	}
	for _, v := range verbs {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return "help", nil, nil
	}
	return "", nil, usagef("unknown subcommand %q (want %s)", args[0], strings.Join(verbs, ", "))
}

// openAdmin parses the storage flags (plus those extra registers) and opens
// the store. The caller closes it with done.
func (a *app) openAdmin(name, synopsis string, args []string, extra func(*flag.FlagSet)) (*adminCmd, error) {
	var s storageConfig
	fs := newFlagSet(name)
	s.register(fs)
	if extra != nil {
		extra(fs)
	}
	pos, err := a.parse(fs, synopsis, args)
	if err != nil {
		return nil, err
	}
	st, bl, err := openStorage(s)
	if err != nil {
		return nil, err
	}
	return &adminCmd{store: st, blobs: bl, args: pos}, nil
}

func (c *adminCmd) done(err error) error {
	if cerr := c.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// wantArgs checks the number of positional arguments.
func (c *adminCmd) wantArgs(min, max int, what string) error {
	if n := len(c.args); n < min || (max >= 0 && n > max) {
		return usagef("want %s", what)
	}
	return nil
}

// newAddress checks an address that is about to be created
// (store.CheckAddress: RFC 5321 lengths, dot-atom local part, IDNA domain)
// and returns the form the directory keeps. A refusal is an ordinary error
// (exit 1): the command line was well formed, the value is not.
func newAddress(addr string) (string, error) {
	return store.CheckAddress(addr)
}

// newDomain is newAddress for a domain (store.CheckDomain).
func newDomain(d string) (string, error) {
	return store.CheckDomain(d)
}

// validAddress normalises an address that names an existing entry: the
// form store.CheckAddress returns when it passes (so an IDN finds its
// A-label entry), else the lower-cased shape local@domain, so that an entry
// made before the checks existed can still be shown, changed or deleted.
func validAddress(addr string) (string, error) {
	if a, err := store.CheckAddress(addr); err == nil {
		return a, nil
	}
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || !validDomain(domain) || strings.ContainsAny(local, " \t\r\n<>@,;\"") {
		return "", usagef("%q is not an address (want local@domain)", addr)
	}
	return addr, nil
}

// validDomain accepts a plain DNS name: letters, digits, '-', '.' in
// non-empty labels.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}
