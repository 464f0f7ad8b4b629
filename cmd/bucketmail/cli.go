package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line was wrong
)

// app is one invocation of the program: its arguments come to run, its
// standard streams and environment are fields so tests can run it in-process.
type app struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
	// seeFlags, when set, receives the flag set of a command run with -h
	// instead of its usage being printed: the README flag table is
	// generated from it (flagdoc_test.go).
	seeFlags func(*flag.FlagSet)
}

// command is one subcommand: name as typed, a one-line summary and the
// function that parses its own flags and runs it.
type command struct {
	name    string
	summary string
	run     func(a *app, ctx context.Context, args []string) error
}

func (a *app) commands() []command {
	return []command{
		{"run", "run every role (edge, worker, gateway) in one process", (*app).cmdRun},
		{"edge", "run the SMTP edge (MX, submission)", (*app).cmdEdge},
		{"worker", "run a delivery worker", (*app).cmdWorker},
		{"gateway", "run the IMAP and POP3 gateway", (*app).cmdGateway},
		{"domain", "add, delete or list local domains", (*app).cmdDomain},
		{"user", "add, delete or list users, set a password or a storage quota", (*app).cmdUser},
		{"alias", "add, delete or list aliases", (*app).cmdAlias},
		{"queue", "show the delivery queues and dead-lettered jobs", (*app).cmdQueue},
		{"reindex", "rebuild the index from the blob store (snapshots and messages)", (*app).cmdReindex},
		{"dns", "print the DNS records to publish for a domain", (*app).cmdDNS},
		{"dkim", "make or list the DKIM signing keys of a domain", (*app).cmdDKIM},
		{"sieve", "store, list, activate or check a user's Sieve filter scripts", (*app).cmdSieve},
		{"version", "print the version of this binary", (*app).cmdVersion},
		{"help", "show this help", (*app).cmdHelp},
	}
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// errHelpShown means -h was given and the help was printed: exit 0.
var errHelpShown = errors.New("help shown")

// run runs the command named by args[0] and returns the exit code. Failures
// are reported as one line on stderr.
func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		a.usage(a.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	for _, c := range a.commands() {
		if c.name != name {
			continue
		}
		err := c.run(a, ctx, args[1:])
		return a.report(c.name, err)
	}
	fmt.Fprintf(a.stderr, "bucketmail: unknown command %q (see bucketmail help)\n", name)
	return exitUsage
}

// report prints err as one line and maps it to an exit code.
func (a *app) report(cmd string, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	// One line, even when the error joins several.
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(a.stderr, "bucketmail: %s: %s\n", cmd, msg)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

func (a *app) cmdHelp(_ context.Context, _ []string) error {
	a.usage(a.stdout)
	return nil
}

func (a *app) usage(w io.Writer) {
	fmt.Fprint(w, `bucketmail: a mail backend whose state lives in an object store and an index.

Usage:
  bucketmail COMMAND [FLAGS] [ARGS]

Commands:
`)
	for _, c := range a.commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Admin commands:
  bucketmail domain add|del DOMAIN | domain list
  bucketmail user add|passwd ADDRESS [--password-stdin] | user del ADDRESS | user quota ADDRESS [SIZE] | user list
  bucketmail alias add SOURCE TARGET... | alias del SOURCE [TARGET...] | alias list
      (SOURCE "@domain" is the domain's catch-all)
  bucketmail queue [--json]
  bucketmail reindex --user ADDRESS | --all
  bucketmail dns DOMAIN [--format zone|json]
  bucketmail dkim keygen DOMAIN [--selector S] [--algorithm ed25519|rsa2048]
  bucketmail dkim list [DOMAIN] | dkim del DOMAIN SELECTOR
  bucketmail sieve put ADDRESS NAME FILE|- | sieve get|del ADDRESS NAME | sieve list ADDRESS
  bucketmail sieve activate ADDRESS [NAME] | sieve check FILE|-

Every flag can also be set in the environment as BUCKETMAIL_<NAME>
(upper case, dashes as underscores); flags on the command line win.
Run "bucketmail COMMAND -h" for the flags of a command.
`)
}

// newFlagSet makes a flag set that reports errors through run, not by
// printing and exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("bucketmail "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse overlays the environment on fs, then parses args, allowing flags
// after positional arguments ("user add a@b --password-stdin"). It returns
// the positional arguments.
func (a *app) parse(fs *flag.FlagSet, synopsis string, args []string) ([]string, error) {
	if err := applyEnv(fs, a.lookupEnv); err != nil {
		return nil, usageError{err.Error()}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				a.flagUsage(fs, synopsis)
				return nil, errHelpShown
			}
			return nil, usagef("%v (see %s -h)", err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (a *app) flagUsage(fs *flag.FlagSet, synopsis string) {
	if a.seeFlags != nil {
		a.seeFlags(fs)
		return
	}
	fmt.Fprintf(a.stdout, "Usage:\n  %s\n\nFlags (env BUCKETMAIL_<NAME>):\n", synopsis)
	fs.SetOutput(a.stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// stderrIsTerminal reports whether w is a terminal, to pick the log format.
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
