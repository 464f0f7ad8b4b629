package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeREADME makes TestREADMEFlagTable rewrite the table instead of
// comparing it (go generate ./cmd/bucketmail).
var writeREADME = flag.Bool("write-readme", false, "rewrite the flag table of README.md from the flag sets")

// The README lines that enclose the generated flag table.
const (
	flagTableBegin = "<!-- flag table: generated from the flag usage strings by go generate ./cmd/bucketmail; edit the code, not this table -->\n"
	flagTableEnd   = "<!-- end of flag table -->\n"
	readmePath     = "../../README.md"
)

// flagInvocations are the commands (with subcommand) whose flags the table
// lists; a flag in every one of them is used by "all".
var flagInvocations = [][]string{
	{"run"}, {"edge"}, {"gateway"}, {"worker"},
	{"domain", "add"}, {"user", "add"}, {"user", "passwd"}, {"user", "del"}, {"user", "list"}, {"user", "quota"},
	{"alias", "add"}, {"queue"}, {"reindex"}, {"dns"}, {"dkim", "keygen"}, {"dkim", "list"},
}

// serverInvocations are the server commands: a flag of all of them and of
// no admin command is used by "servers".
var serverInvocations = []string{"run", "edge", "gateway", "worker"}

// docDefaults are defaults that depend on the machine, as the table says
// them.
var docDefaults = map[string]string{"hostname": "the OS host name"}

// envOnlyRows are settings read from the environment only, never flags
// (the S3 credentials: a flag would show in ps).
const envOnlyRows = "| (no flag) | `BUCKETMAIL_S3_ACCESS_KEY`, `BUCKETMAIL_S3_SECRET_KEY` | else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `~/.aws/credentials`, IAM | all with `s3://` | S3 credentials, from the environment only so that they never show in `ps` |\n"

// flagRow is one line of the table: a flag with one meaning, and the
// commands that have it.
type flagRow struct {
	name, usage, def string
	cmds             []string
}

// TestREADMEFlagTable fails when the flag table of README.md is not the
// one the flag sets give; with -write-readme it rewrites it.
func TestREADMEFlagTable(t *testing.T) {
	want := flagTable(t)
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(b), flagTableBegin)
	got, after, ok2 := strings.Cut(rest, flagTableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the markers %q and %q", flagTableBegin, flagTableEnd)
	}
	if *writeREADME {
		out := before + flagTableBegin + want + flagTableEnd + after
		if err := os.WriteFile(readmePath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("README.md flag table differs from the flag sets (run go generate ./cmd/bucketmail):\n%s", firstDiff(got, want))
	}
}

// TestFlagTableSeesEveryCommand: the table is built from the real flag
// sets, so a flag of one role shows under that role only.
func TestFlagTableSeesEveryCommand(t *testing.T) {
	table := flagTable(t)
	for _, want := range []string{
		"| `--data-dir` | `BUCKETMAIL_DATA_DIR` | `./data` | all |",
		"| `--smtp-addr` | `BUCKETMAIL_SMTP_ADDR` | `:25` | run, edge |",
		"| `--submission-addr` | `BUCKETMAIL_SUBMISSION_ADDR` | `:587` | run, edge, dns |",
		"| `--drain` | `BUCKETMAIL_DRAIN` | `false` | worker |",
		"| `--password-stdin` | `BUCKETMAIL_PASSWORD_STDIN` | `false` | user add, user passwd |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

// flagTable renders the rows of every command's flags as Markdown.
func flagTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| flag | env | default | used by | what it does |\n|---|---|---|---|---|\n")
	rows := flagRows(t)
	for i, r := range rows {
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s | %s |\n", r.name, envName(r.name), mdText(r.def), usedBy(r.cmds), mdText(r.usage))
		if i+1 < len(rows) && usedBy(r.cmds) == "all" && usedBy(rows[i+1].cmds) != "all" {
			b.WriteString(envOnlyRows)
		}
	}
	return b.String()
}

// flagRows collects the flags of every command in flagInvocations, one
// row per name, usage and default, sorted by who uses them, then by name.
func flagRows(t *testing.T) []flagRow {
	t.Helper()
	byKey := map[string]*flagRow{}
	var rows []*flagRow
	for _, inv := range flagInvocations {
		cmd := strings.Join(inv, " ")
		for _, f := range commandFlags(t, inv) {
			usage, def := splitDefault(f)
			key := f.Name + "\x00" + usage + "\x00" + def
			r := byKey[key]
			if r == nil {
				r = &flagRow{name: f.Name, usage: usage, def: def}
				byKey[key] = r
				rows = append(rows, r)
			}
			r.cmds = append(r.cmds, cmd)
		}
	}
	slices.SortStableFunc(rows, func(a, b *flagRow) int {
		ka := fmt.Sprintf("%d %s %s", usedByRank(a.cmds), usedBy(a.cmds), a.name)
		kb := fmt.Sprintf("%d %s %s", usedByRank(b.cmds), usedBy(b.cmds), b.name)
		return strings.Compare(ka, kb)
	})
	out := make([]flagRow, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out
}

// commandFlags runs the command with -h and returns its flags.
func commandFlags(t *testing.T, inv []string) []*flag.Flag {
	t.Helper()
	var fs *flag.FlagSet
	var stderr bytes.Buffer
	a := &app{
		stdout: io.Discard, stderr: &stderr,
		lookupEnv: func(string) (string, bool) { return "", false },
		seeFlags:  func(f *flag.FlagSet) { fs = f },
	}
	if code := a.run(context.Background(), append(slices.Clone(inv), "-h")); code != exitOK || fs == nil {
		t.Fatalf("%s -h: exit %d, flags seen: %v, %s", strings.Join(inv, " "), code, fs != nil, stderr.String())
	}
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	return flags
}

// trailingDefault is a usage string's own "(default ...)" at its end, for
// defaults the flag value cannot show (derived, or a sentence).
var trailingDefault = regexp.MustCompile(`\s*\(default:? ([^()]*(\([^()]*\)[^()]*)*)\)$`)

// splitDefault returns f's usage without its trailing "(default ...)" and
// the default as the table shows it.
func splitDefault(f *flag.Flag) (usage, def string) {
	usage = f.Usage
	if m := trailingDefault.FindStringSubmatchIndex(usage); m != nil {
		def = usage[m[2]:m[3]]
		usage = usage[:m[0]]
		if !strings.Contains(def, " ") {
			def = "`" + def + "`"
		}
		return usage, def
	}
	if d, ok := docDefaults[f.Name]; ok {
		return usage, d
	}
	def = f.DefValue
	if g, ok := f.Value.(flag.Getter); ok {
		if d, ok := g.Get().(time.Duration); ok {
			def = shortDuration(d)
		}
	}
	if def == "" {
		return usage, "none"
	}
	return usage, "`" + def + "`"
}

// shortDuration writes 1h for the 1h0m0s of time.Duration.String.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// usedBy names the commands of a row: all, servers, or a list.
func usedBy(cmds []string) string {
	switch {
	case len(cmds) == len(flagInvocations):
		return "all"
	case slices.Equal(cmds, serverInvocations):
		return "servers"
	}
	return strings.Join(cmds, ", ")
}

// usedByRank orders the rows: all, servers, server roles, admin commands.
func usedByRank(cmds []string) int {
	switch usedBy(cmds) {
	case "all":
		return 0
	case "servers":
		return 1
	}
	if slices.Contains(serverInvocations, cmds[0]) {
		return 2
	}
	return 3
}

// docLink is a document named in a usage string, linked in the table.
var docLink = regexp.MustCompile(`\bdocs/[a-z-]+\.md\b`)

// mdText makes s safe in a Markdown table cell: pipes escaped, words with
// angle brackets (which Markdown would take for HTML) as code, and the
// documents it names as links.
func mdText(s string) string {
	words := strings.Split(strings.ReplaceAll(s, "|", `\|`), " ")
	for i, w := range words {
		if !strings.Contains(w, "<") || strings.Contains(w, "`") {
			continue
		}
		core := strings.TrimRight(w, ",;.)")
		words[i] = "`" + core + "`" + w[len(core):]
	}
	return docLink.ReplaceAllString(strings.Join(words, " "), "[$0]($0)")
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\nREADME: %s\ncode:   %s", i+1, gl, wl)
		}
	}
	return ""
}
