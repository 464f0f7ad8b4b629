package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

const (
	beginMark = "<!-- bench:begin (written by bmbench report; edit the text around it) -->"
	endMark   = "<!-- bench:end -->"
)

// report merges the result files of the targets into the JSON of raw
// figures and the tables between the marks of the markdown file.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	md := fs.String("md", "docs/benchmarks.md", "markdown `file` whose part between the bench marks is replaced")
	js := fs.String("json", "docs/benchmarks.json", "JSON `file` of every run of every figure")
	base := fs.String("baseline", "postfix-dovecot", "target the ratios compare with")
	command := fs.String("command", "make bench-compare", "the command that produced the figures, for the text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var targets []*resultFile
	for _, path := range fs.Args() {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rf := &resultFile{}
		if err := json.Unmarshal(b, rf); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		targets = append(targets, rf)
	}
	if len(targets) == 0 {
		return errors.New("no result files")
	}
	machine := machineInfo()
	out := struct {
		Generated time.Time     `json:"generated"`
		Command   string        `json:"command"`
		Machine   string        `json:"machine"`
		Targets   []*resultFile `json:"targets"`
	}{time.Now().UTC().Truncate(time.Second), *command, machine, targets}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*js, append(b, '\n'), 0o644); err != nil {
		return err
	}
	table := tables(targets, *base, machine, *command, out.Generated)
	doc, err := os.ReadFile(*md)
	if err != nil {
		return err
	}
	i, j := bytes.Index(doc, []byte(beginMark)), bytes.Index(doc, []byte(endMark))
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q ... %q section", *md, beginMark, endMark)
	}
	var nd bytes.Buffer
	nd.Write(doc[:i+len(beginMark)])
	nd.WriteString("\n" + table)
	nd.Write(doc[j:])
	return os.WriteFile(*md, nd.Bytes(), 0o644)
}

func machineInfo() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%d cores (%s)%s, Linux %s, %s", runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)), runtime.Version())
}

type key struct{ scenario, param, metric string }

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func cell(f *figure) string {
	if f == nil {
		return "–"
	}
	s := summarize(f.Runs)
	if len(f.Runs) == 1 {
		return fmtNum(s.Median) + " (1 run)"
	}
	return fmt.Sprintf("**%s** (%s–%s)", fmtNum(s.Median), fmtNum(s.Min), fmtNum(s.Max))
}

// ratio is how many times better a is than b: above 1 means a is better,
// whichever way the metric goes.
func ratio(a, b *figure) float64 {
	if a == nil || b == nil {
		return math.NaN()
	}
	x, y := summarize(a.Runs).Median, summarize(b.Runs).Median
	if a.Better == "lower" {
		x, y = y, x
	}
	if y == 0 {
		return math.NaN()
	}
	return x / y
}

func tables(targets []*resultFile, base, machine, command string, when time.Time) string {
	var b strings.Builder
	find := func(t *resultFile, k key) *figure {
		for _, f := range t.Figures {
			if f.Scenario == k.scenario && f.Param == k.param && f.Metric == k.metric {
				return f
			}
		}
		return nil
	}
	var baseline *resultFile
	var others []*resultFile
	for _, t := range targets {
		if t.Target == base {
			baseline = t
		} else {
			others = append(others, t)
		}
	}
	fmt.Fprintf(&b, "\nFigures of `%s`, %s, on %s.\n\n", command, when.Format("2006-01-02"), machine)
	for _, t := range targets {
		fmt.Fprintf(&b, "- `%s`: %s\n", t.Target, t.Software)
	}
	b.WriteString("\nEach cell is the **median** of the runs, then (min–max). A ratio above 1 means bucketmail does better than ")
	if baseline != nil {
		fmt.Fprintf(&b, "`%s`, whichever way the metric goes (more per second, or fewer milliseconds).\n", baseline.Target)
	} else {
		b.WriteString("the baseline (none was measured in this run).\n")
	}
	if chk := targetChecks(targets, baseline, find); chk != "" {
		b.WriteString("\n### Targets\n\n" + chk)
	}
	// Every figure, grouped by scenario in first-seen order.
	var keys []key
	seen := map[key]bool{}
	units := map[key]string{}
	for _, t := range append(others, baseline) {
		if t == nil {
			continue
		}
		for _, f := range t.Figures {
			k := key{f.Scenario, f.Param, f.Metric}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
				units[k] = f.Unit
			}
		}
	}
	scenario := ""
	for _, k := range keys {
		if k.scenario != scenario {
			scenario = k.scenario
			fmt.Fprintf(&b, "\n### %s\n\n| | metric | unit |", scenario)
			for _, t := range others {
				fmt.Fprintf(&b, " %s |", t.Target)
			}
			if baseline != nil {
				fmt.Fprintf(&b, " %s |", baseline.Target)
				for _, t := range others {
					fmt.Fprintf(&b, " ratio %s |", strings.TrimPrefix(t.Target, "bucketmail-"))
				}
			}
			b.WriteString("\n|---|---|---|")
			n := len(others)
			if baseline != nil {
				n += 1 + len(others)
			}
			b.WriteString(strings.Repeat("---|", n) + "\n")
		}
		fmt.Fprintf(&b, "| %s | %s | %s |", k.param, k.metric, units[k])
		for _, t := range others {
			fmt.Fprintf(&b, " %s |", cell(find(t, k)))
		}
		if baseline != nil {
			bf := find(baseline, k)
			fmt.Fprintf(&b, " %s |", cell(bf))
			for _, t := range others {
				r := ratio(find(t, k), bf)
				if math.IsNaN(r) {
					b.WriteString(" – |")
				} else {
					fmt.Fprintf(&b, " %.2f× |", r)
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// targetChecks states each target of the performance work: met or not.
func targetChecks(targets []*resultFile, baseline *resultFile, find func(*resultFile, key) *figure) string {
	var b strings.Builder
	line := func(what string, ok bool, detail string) {
		mark := "met"
		if !ok {
			mark = "**not met**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", what, detail, mark)
	}
	b.WriteString("| target | measured | |\n|---|---|---|\n")
	med := func(f *figure) float64 {
		if f == nil {
			return math.NaN()
		}
		return summarize(f.Runs).Median
	}
	for _, t := range targets {
		if t == baseline || !strings.HasPrefix(t.Target, "bucketmail") {
			continue
		}
		cloud := strings.Contains(t.Target, "cloud")
		if baseline != nil {
			want := 1.5
			if cloud {
				want = 1.0
			}
			k := key{"smtp-accept", "16 sessions", "accept rate"}
			if r := ratio(find(t, k), find(baseline, k)); !math.IsNaN(r) {
				line(fmt.Sprintf("%s: SMTP accept rate, 16 sessions ≥ %.1f× %s", t.Target, want, baseline.Target), r >= want, fmt.Sprintf("%.2f×", r))
			}
			// Issue-level goals of the generator comparison: end to end at
			// 16 sessions with either generator, accept under smtp-source.
			for _, sc := range []string{"smtp-accept", smtpSourceScenario} {
				k := key{sc, "16 sessions", "accepted to delivered, all"}
				if r := ratio(find(t, k), find(baseline, k)); !math.IsNaN(r) {
					line(fmt.Sprintf("%s: end to end (%s), 16 sessions ≥ %.1f× %s", t.Target, sc, want, baseline.Target), r >= want, fmt.Sprintf("%.2f×", r))
				}
			}
			for _, s := range []string{"1", "16", "64"} {
				k := key{smtpSourceScenario, s + " sessions", "accept rate"}
				if r := ratio(find(t, k), find(baseline, k)); !math.IsNaN(r) {
					line(fmt.Sprintf("%s: accept rate under smtp-source, %s sessions ≥ 1.0× %s", t.Target, s, baseline.Target), r >= 1, fmt.Sprintf("%.2f×", r))
				}
			}
			k = key{"imap-mixed", "50 clients", "operations"}
			if r := ratio(find(t, k), find(baseline, k)); !math.IsNaN(r) {
				line(fmt.Sprintf("%s: IMAP mixed workload, 50 clients ≥ 1.0× %s", t.Target, baseline.Target), r >= 1, fmt.Sprintf("%.2f×", r))
			}
			for _, f := range t.Figures {
				if f.Scenario == "imap-sync" && f.Metric == "UID FETCH 1:*" {
					k = key{f.Scenario, f.Param, f.Metric}
					if r := ratio(f, find(baseline, k)); !math.IsNaN(r) {
						line(fmt.Sprintf("%s: sync of %s faster than %s", t.Target, f.Param, baseline.Target), r > 1, fmt.Sprintf("%s ms vs %s ms (%.2f×)", fmtNum(med(f)), fmtNum(med(find(baseline, k))), r))
					}
				}
			}
		}
		for _, f := range t.Figures {
			if f.Scenario == "memory" && f.Metric == "RSS per idle IMAP connection" {
				line(fmt.Sprintf("%s: ≤ 32 KiB RSS per idle IMAP connection, %s", t.Target, f.Param), med(f) <= 32, fmt.Sprintf("%s KiB", fmtNum(med(f))))
			}
			if f.Scenario == "cost" {
				switch {
				case f.Metric == "object PUT" || f.Metric == "object GET":
					line(fmt.Sprintf("%s: exactly 1 %s per inbound message", t.Target, f.Metric), summarize(f.Runs).Min == 1 && summarize(f.Runs).Max == 1, fmtNum(med(f)))
				case f.Param == "mailbox sync" && f.Metric == "object reads":
					line(fmt.Sprintf("%s: 0 object reads per mailbox sync", t.Target), summarize(f.Runs).Max == 0, fmtNum(med(f)))
				}
			}
		}
	}
	if strings.Count(b.String(), "\n") <= 2 {
		return ""
	}
	return b.String()
}
