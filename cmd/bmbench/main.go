// Command bmbench is the load generator of `make bench`: it drives an SMTP
// + IMAP + POP3 server, bucketmail or another, with the scenarios of
// docs/benchmarks.md and writes what it measured as JSON; `bmbench report`
// turns the JSON of several targets into the tables of docs/benchmarks.md.
// bench/bench.sh starts the targets and runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const usage = `usage: bmbench COMMAND [flags]

commands:
  users    print the addresses the scenarios use (to create them on a target)
  suite    seed the target, then run the smtp, smtp-source, e2e, sync, search, qresync, sort, mixed and pop3 scenarios
  mem      measure the memory of idle logged-in IMAP connections
  cost     measure object-store requests and Redis commands (bucketmail cloud mode)
  dns      answer every DNS query with NXDOMAIN (a resolver for the target's SPF/DMARC lookups)
  report   write docs/benchmarks.md's tables and the JSON of the raw figures

Run "bmbench COMMAND -h" for the flags of a command.
`

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "users", "suite", "mem", "cost":
		err = runTarget(ctx, os.Args[1], os.Args[2:])
	case "dns":
		err = serveDNS(ctx, os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bmbench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// intList is a flag holding comma-separated integers.
type intList []int

func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, v := range *l {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		*l = append(*l, n)
	}
	return nil
}

func runTarget(ctx context.Context, cmd string, args []string) error {
	cfg := &config{sessions: intList{1, 16, 64}, mixClients: intList{1, 8, 50}}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.StringVar(&cfg.target, "target", "", "name of the target in the results (bucketmail-embedded, bucketmail-cloud, postfix-dovecot)")
	software := fs.String("software", "", "what the target runs, with versions, for the report")
	fs.StringVar(&cfg.smtp, "smtp", "127.0.0.1:25", "SMTP `address` of the target")
	fs.StringVar(&cfg.imap, "imap", "127.0.0.1:143", "IMAP `address` (plain text LOGIN)")
	fs.StringVar(&cfg.pop3, "pop3", "127.0.0.1:110", "POP3 `address` (plain text USER/PASS)")
	fs.StringVar(&cfg.domain, "domain", "bench.test", "mail domain of the users")
	fs.StringVar(&cfg.password, "password", "bench-password", "password of every user")
	fs.IntVar(&cfg.runs, "runs", 3, "runs of each measurement (the report gives median, min and max)")
	fs.IntVar(&cfg.size, "size", 10<<10, "message size in bytes")
	fs.IntVar(&cfg.smtpMessages, "smtp-messages", 5000, "messages per SMTP accept run")
	fs.Var((*intList)(&cfg.sessions), "sessions", "concurrent SMTP sessions of the accept runs")
	fs.IntVar(&cfg.sinkUsers, "sink-users", 16, "recipients the accept runs spread messages over")
	fs.StringVar(&cfg.smtpSource, "smtp-source", "smtp-source", "Postfix's smtp-source(1) for the smtp-source scenario (skipped when not found)")
	fs.IntVar(&cfg.syncSize, "sync-messages", 10000, "messages in the mailbox of the sync scenario")
	fs.IntVar(&cfg.popSize, "pop3-messages", 1000, "messages of the POP3 scenario")
	fs.IntVar(&cfg.mixUsers, "mix-users", 50, "users of the mixed IMAP workload (one per client)")
	fs.IntVar(&cfg.mixPerUser, "mix-messages", 200, "messages seeded in each mixed-workload mailbox")
	fs.Var((*intList)(&cfg.mixClients), "clients", "concurrent clients of the mixed IMAP workload runs")
	fs.DurationVar(&cfg.mixDuration, "mix-duration", 15*time.Second, "length of each mixed-workload run")
	fs.DurationVar(&cfg.e2eDuration, "e2e-duration", 10*time.Second, "length of each end-to-end latency run")
	fs.Float64Var(&cfg.e2eRate, "e2e-rate", 0, "send rate of the end-to-end runs in msg/s (0: half the 16-session accept rate)")
	scenarios := fs.String("scenarios", "smtp,smtp-source,e2e,sync,search,qresync,sort,mixed,pop3", "suite: scenarios to run, in this order")
	out := fs.String("out", "", "JSON `file` to add the figures to (created if missing)")
	conns := fs.String("conns", "1000", "mem: comma-separated connection counts")
	pid := fs.Int("pid", 0, "mem: PID of the process holding the connections")
	pidsCmd := fs.String("pids-cmd", "", "mem: shell command printing the PIDs to measure (instead of --pid)")
	metricsURL := fs.String("metrics", "", "cost, suite: the target's /metrics URL (bucketmail; before each scenario the suite waits for its search index to catch up, and qresync and sort count object reads with it)")
	redisAddr := fs.String("redis", "", "cost: redis-server `address` of the target")
	costMessages := fs.Int("cost-messages", 200, "cost: messages per run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd == "users" {
		for _, u := range cfg.users() {
			fmt.Println(cfg.addr(u))
		}
		return nil
	}
	cfg.metrics = *metricsURL
	if cfg.target == "" || *out == "" {
		return errors.New("--target and --out are required")
	}
	res, err := loadResults(*out, cfg.target, *software)
	if err != nil {
		return err
	}
	save := func() error { return res.save(*out) }
	switch cmd {
	case "mem":
		if *pid == 0 && *pidsCmd == "" {
			return errors.New("--pid or --pids-cmd is required")
		}
		var counts intList
		if err := counts.Set(*conns); err != nil {
			return err
		}
		for _, n := range counts {
			if err := idleMemory(cfg, n, pidSource(*pid, *pidsCmd), &res.results); err != nil {
				return err
			}
		}
		return save()
	case "cost":
		if *metricsURL == "" || *redisAddr == "" {
			return errors.New("--metrics and --redis are required")
		}
		if err := requestCosts(ctx, cfg, *metricsURL, *redisAddr, *costMessages, &res.results); err != nil {
			return err
		}
		return save()
	}
	cnt := newCounter(cfg)
	defer cnt.close()
	list := strings.Split(*scenarios, ",")
	if needsSeed(list) {
		if err := seed(ctx, cfg, cnt); err != nil {
			return err
		}
	}
	for _, s := range list {
		if err := awaitIndexed(ctx, cfg, s); err != nil {
			return err
		}
		var err error
		switch s {
		case "smtp":
			err = smtpAccept(ctx, cfg, cnt, &res.results)
		case "e2e":
			err = endToEnd(ctx, cfg, &res.results)
		case "sync":
			err = mailboxSync(cfg, &res.results)
		case "mixed":
			err = mixedWorkload(ctx, cfg, &res.results)
		case "pop3":
			err = pop3Retr(cfg, &res.results)
		case "search":
			err = imapSearch(cfg, &res.results)
		case "smtp-source":
			err = smtpSourceAccept(ctx, cfg, cnt, &res.results)
		case "qresync":
			err = imapQResync(ctx, cfg, &res.results)
		case "sort":
			err = imapSort(ctx, cfg, &res.results)
		default:
			err = fmt.Errorf("unknown scenario %q", s)
		}
		if err != nil {
			return err
		}
		// Keep what is done even if a later scenario fails.
		if err := save(); err != nil {
			return err
		}
	}
	return nil
}

func needsSeed(list []string) bool {
	for _, s := range list {
		switch s {
		case "sync", "mixed", "pop3", "search", "qresync", "sort":
			return true
		}
	}
	return false
}

// resultFile is the JSON of one target: its figures with every run.
type resultFile struct {
	Target   string    `json:"target"`
	Software string    `json:"software,omitempty"`
	Updated  time.Time `json:"updated"`
	Figures  []*figure `json:"figures"`
	results  results
}

func loadResults(path, target, software string) (*resultFile, error) {
	rf := &resultFile{Target: target, Software: software}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return rf, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, rf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rf.Target != target {
		return nil, fmt.Errorf("%s holds the figures of %q, not %q", path, rf.Target, target)
	}
	if software != "" {
		rf.Software = software
	}
	rf.results.figures = rf.Figures
	return rf, nil
}

func (rf *resultFile) save(path string) error {
	rf.Figures = rf.results.figures
	rf.Updated = time.Now().UTC().Truncate(time.Second)
	b, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
