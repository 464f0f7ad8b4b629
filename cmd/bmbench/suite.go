package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// config is what every scenario needs to know about the target.
type config struct {
	target   string // name in the results, e.g. bucketmail-embedded
	smtp     string
	imap     string
	pop3     string
	domain   string
	password string
	runs     int
	size     int    // message size in bytes
	metrics  string // the target's /metrics URL (bucketmail), for object reads; "" if none

	smtpMessages int
	sessions     []int
	syncSize     int
	popSize      int
	mixUsers     int
	mixPerUser   int
	mixClients   []int
	mixDuration  time.Duration
	e2eDuration  time.Duration
	e2eRate      float64 // messages per second; 0: half the 16-session accept rate
	sinkUsers    int
	smtpSource   string // path or name of Postfix's smtp-source
}

func (c *config) addr(local string) string { return local + "@" + c.domain }

// users lists the local parts the scenarios use; the target must have
// them all, with the one password.
func (c *config) users() []string {
	u := []string{"sync", "pop", "mem", "cost"}
	for i := range c.sinkUsers {
		u = append(u, fmt.Sprintf("sink%02d", i+1))
	}
	for i := range c.mixUsers {
		u = append(u, fmt.Sprintf("mix%02d", i+1))
	}
	for i := range max(c.runs, 3) {
		u = append(u, fmt.Sprintf("e2e%02d", i+1))
	}
	return u
}

// figure is one measured quantity with the value of each run.
type figure struct {
	Scenario string    `json:"scenario"`
	Param    string    `json:"param,omitempty"`
	Metric   string    `json:"metric"`
	Unit     string    `json:"unit"`
	Better   string    `json:"better"` // higher or lower
	Runs     []float64 `json:"runs"`
}

// results collects figures by key, keeping their first-seen order.
type results struct {
	mu      sync.Mutex
	figures []*figure
}

func (r *results) add(scenario, param, metric, unit, better string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.figures {
		if f.Scenario == scenario && f.Param == param && f.Metric == metric {
			f.Runs = append(f.Runs, v)
			return
		}
	}
	r.figures = append(r.figures, &figure{scenario, param, metric, unit, better, []float64{v}})
}

func (r *results) median(scenario, param, metric string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.figures {
		if f.Scenario == scenario && f.Param == param && f.Metric == metric {
			return summarize(f.Runs).Median
		}
	}
	return 0
}

// counter keeps one logged-in connection per user to read mailbox sizes.
type counter struct {
	cfg   *config
	conns map[string]*imapConn
}

func newCounter(cfg *config) *counter { return &counter{cfg: cfg, conns: map[string]*imapConn{}} }

func (c *counter) count(user string) (int, error) {
	ic := c.conns[user]
	if ic == nil {
		var err error
		if ic, err = dialIMAP(c.cfg.imap); err != nil {
			return 0, err
		}
		if err := ic.login(c.cfg.addr(user), c.cfg.password); err != nil {
			ic.Close()
			return 0, fmt.Errorf("%s: %w", user, err)
		}
		c.conns[user] = ic
	}
	n, err := ic.messages("INBOX")
	if err != nil {
		ic.Close()
		delete(c.conns, user)
	}
	return n, err
}

// waitFor polls until every user's INBOX holds want messages; more is an
// error (a duplicate delivery).
func (c *counter) waitFor(want map[string]int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		done := true
		var last string
		for u, n := range want {
			got, err := c.count(u)
			if err != nil {
				return err
			}
			if got > n {
				return fmt.Errorf("%s holds %d messages, want %d", u, got, n)
			}
			if got < n {
				done = false
				last = fmt.Sprintf("%s holds %d of %d", u, got, n)
				break
			}
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("delivery did not finish in %s: %s", timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *counter) close() {
	for _, ic := range c.conns {
		ic.Close()
	}
}

// seed fills the mailboxes the read scenarios need, unless they are full.
func seed(ctx context.Context, cfg *config, cnt *counter) error {
	want := map[string]int{"sync": cfg.syncSize, "pop": cfg.popSize}
	for i := range cfg.mixUsers {
		want[fmt.Sprintf("mix%02d", i+1)] = cfg.mixPerUser
	}
	var jobs []smtpJob
	for _, u := range slices.Sorted(maps.Keys(want)) {
		have, err := cnt.count(u)
		if err != nil {
			return err
		}
		if have > want[u] && strings.HasPrefix(u, "mix") {
			want[u] = have // APPENDs of earlier runs
			continue
		}
		for i := have; i < want[u]; i++ {
			j := smtpJob{rcpt: cfg.addr(u), subject: fmt.Sprintf("seed %s %d", u, i), multipart: i%2 == 1}
			if u == "sync" && rareMessage(i) {
				j.marker = rareWord
			}
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	slog.Info("seeding", "messages", len(jobs))
	start := time.Now()
	if _, err := sendAll(ctx, cfg.smtp, 16, cfg.size, jobs, nil); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	if err := cnt.waitFor(want, 15*time.Minute); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	slog.Info("seeded", "messages", len(jobs), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// smtpAccept measures the accept rate and latency at each session count,
// waiting after each run until the queue has delivered everything, so
// that each run starts from the same state.
func smtpAccept(ctx context.Context, cfg *config, cnt *counter, res *results) error {
	want := map[string]int{}
	for i := range cfg.sinkUsers {
		u := fmt.Sprintf("sink%02d", i+1)
		n, err := cnt.count(u)
		if err != nil {
			return err
		}
		want[u] = n
	}
	for _, s := range cfg.sessions {
		param := strconv.Itoa(s) + " sessions"
		for run := range cfg.runs {
			jobs := make([]smtpJob, cfg.smtpMessages)
			for i := range jobs {
				u := fmt.Sprintf("sink%02d", rand.IntN(cfg.sinkUsers)+1)
				want[u]++
				jobs[i] = smtpJob{rcpt: cfg.addr(u), subject: fmt.Sprintf("accept %d %d %d", s, run, i)}
			}
			r, err := sendAll(ctx, cfg.smtp, s, cfg.size, jobs, nil)
			if err != nil {
				return fmt.Errorf("smtp %s: %w", param, err)
			}
			rate := float64(len(jobs)) / r.elapsed.Seconds()
			res.add("smtp-accept", param, "accept rate", "msg/s", "higher", rate)
			res.add("smtp-accept", param, "latency p50", "ms", "lower", r.latency.quantile(0.5))
			res.add("smtp-accept", param, "latency p99", "ms", "lower", r.latency.quantile(0.99))
			dstart := time.Now()
			if err := cnt.waitFor(want, 15*time.Minute); err != nil {
				return fmt.Errorf("smtp %s: %w", param, err)
			}
			drain := time.Since(dstart)
			res.add("smtp-accept", param, "accepted to delivered, all", "msg/s", "higher",
				float64(len(jobs))/(r.elapsed+drain).Seconds())
			slog.Info("smtp accept", "target", cfg.target, "sessions", s, "run", run+1,
				"rate", fmt.Sprintf("%.0f/s", rate), "p50ms", r.latency.quantile(0.5), "p99ms", r.latency.quantile(0.99),
				"drain", drain.Round(time.Millisecond))
		}
	}
	return nil
}

// endToEnd sends at a fixed rate to a user whose INBOX a client watches
// in IDLE, and measures from each message's 250 to the EXISTS that shows it.
func endToEnd(ctx context.Context, cfg *config, res *results) error {
	rate := cfg.e2eRate
	if rate <= 0 {
		// Half the 16-session accept rate, or of the nearest session count run.
		best := 0
		for _, s := range cfg.sessions {
			if best == 0 || abs(int64(s-16)) < abs(int64(best-16)) {
				best = s
			}
		}
		rate = res.median("smtp-accept", strconv.Itoa(best)+" sessions", "accept rate") / 2
	}
	if rate <= 0 {
		return fmt.Errorf("e2e: no rate: run smtp-accept first or give --e2e-rate")
	}
	// One row for every target, whatever its rate: each runs at half its own.
	param := "half the accept rate"
	if cfg.e2eRate > 0 {
		param = "fixed rate"
	}
	n := int(rate * cfg.e2eDuration.Seconds())
	for run := range cfg.runs {
		user := fmt.Sprintf("e2e%02d", run+1)
		lat, err := e2eRun(ctx, cfg, user, rate, n, run)
		if err != nil {
			return fmt.Errorf("e2e: %w", err)
		}
		res.add("e2e", param, "send rate", "msg/s", "higher", rate)
		res.add("e2e", param, "latency p50", "ms", "lower", lat.quantile(0.5))
		res.add("e2e", param, "latency p99", "ms", "lower", lat.quantile(0.99))
		slog.Info("e2e", "target", cfg.target, "run", run+1, "rate", rate, "messages", n,
			"p50ms", lat.quantile(0.5), "p99ms", lat.quantile(0.99))
	}
	return nil
}

func e2eRun(ctx context.Context, cfg *config, user string, rate float64, n, run int) (*latencies, error) {
	ic, err := dialIMAP(cfg.imap)
	if err != nil {
		return nil, err
	}
	defer ic.Close()
	if err := ic.login(cfg.addr(user), cfg.password); err != nil {
		return nil, err
	}
	if _, err := ic.cmd("SELECT INBOX"); err != nil {
		return nil, err
	}
	base := ic.exists
	// The reader notes when each EXISTS count was first seen.
	type seen struct {
		n  int
		at time.Time
	}
	events := make(chan seen, 1<<16)
	tag := ic.tag()
	ic.w.WriteString(tag + " IDLE\r\n")
	ic.w.Flush()
	var r result
	if err := ic.continuation(&r); err != nil {
		return nil, err
	}
	readErr := make(chan error, 1)
	go func() {
		for {
			line, _, err := ic.readResp()
			if err != nil {
				readErr <- err
				return
			}
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "*" && strings.EqualFold(f[2], "EXISTS") {
				if k, err := strconv.Atoi(f[1]); err == nil {
					events <- seen{k, time.Now()}
					if k >= base+n {
						readErr <- nil
						return
					}
				}
			}
		}
	}()
	jobs := make([]smtpJob, n)
	for i := range jobs {
		jobs[i] = smtpJob{rcpt: cfg.addr(user), subject: fmt.Sprintf("e2e %d %d", run, i)}
	}
	start := time.Now()
	pace := func(i int) {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
	}
	sent, err := sendAll(ctx, cfg.smtp, 16, cfg.size, jobs, pace)
	if err != nil {
		return nil, err
	}
	select {
	case err := <-readErr:
		if err != nil {
			return nil, err
		}
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("%s: not every message showed up in IDLE", user)
	}
	close(events)
	ic.w.WriteString("DONE\r\n")
	ic.w.Flush()
	if err := ic.wait(tag, &r); err != nil {
		return nil, err
	}
	// Which sequence number each message got.
	ic.keep = true
	ftag := ic.tag()
	fmt.Fprintf(ic.w, "%s FETCH %d:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n", ftag, base+1)
	ic.w.Flush()
	seqOf := make([]int, n)
	for {
		line, _, err := ic.readResp()
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(line, ftag+" ") {
			break
		}
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "FETCH" {
			continue
		}
		seq, _ := strconv.Atoi(f[1])
		i := strings.Index(line, fmt.Sprintf("e2e %d ", run))
		if i < 0 {
			continue
		}
		k, err := strconv.Atoi(strings.Fields(line[i+len(fmt.Sprintf("e2e %d ", run)):])[0])
		if err != nil || k < 0 || k >= n {
			return nil, fmt.Errorf("bad subject in %q", line)
		}
		seqOf[k] = seq
	}
	ic.keep = false
	var evs []seen
	for e := range events {
		evs = append(evs, e)
	}
	lat := &latencies{}
	for k, seq := range seqOf {
		if seq == 0 {
			return nil, fmt.Errorf("message %d not found in the mailbox", k)
		}
		// The first EXISTS that counted it.
		i := slices.IndexFunc(evs, func(e seen) bool { return e.n >= seq })
		if i < 0 {
			return nil, fmt.Errorf("no EXISTS for message %d", k)
		}
		lat.add(max(0, evs[i].at.Sub(sent.accepted[k])))
	}
	return lat, nil
}

// syncItems is what a client syncing a mailbox asks for.
const syncItems = "(UID FLAGS ENVELOPE BODYSTRUCTURE RFC822.SIZE INTERNALDATE)"

// mailboxSync times SELECT and UID FETCH 1:* of the large mailbox: the
// first time apart (the server may build caches), then runs more.
func mailboxSync(cfg *config, res *results) error {
	param := fmt.Sprintf("%d messages", cfg.syncSize)
	for run := range cfg.runs + 1 {
		ic, err := dialIMAP(cfg.imap)
		if err != nil {
			return err
		}
		if err := ic.login(cfg.addr("sync"), cfg.password); err != nil {
			ic.Close()
			return err
		}
		t0 := time.Now()
		if _, err := ic.cmd("SELECT INBOX"); err != nil {
			ic.Close()
			return err
		}
		t1 := time.Now()
		r, err := ic.cmd("UID FETCH 1:* %s", syncItems)
		t2 := time.Now()
		ic.Close()
		if err != nil {
			return err
		}
		if r.fetches != cfg.syncSize {
			return fmt.Errorf("sync: %d FETCH responses, want %d", r.fetches, cfg.syncSize)
		}
		if run == 0 {
			res.add("imap-sync", param, "first UID FETCH", "ms", "lower", ms(t2.Sub(t1)))
			continue
		}
		res.add("imap-sync", param, "SELECT", "ms", "lower", ms(t1.Sub(t0)))
		res.add("imap-sync", param, "UID FETCH 1:*", "ms", "lower", ms(t2.Sub(t1)))
		slog.Info("sync", "target", cfg.target, "run", run, "select", t1.Sub(t0).Round(time.Microsecond), "fetch", t2.Sub(t1).Round(time.Microsecond))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pop3Retr times RETR of every message of the pop user.
func pop3Retr(cfg *config, res *results) error {
	param := fmt.Sprintf("%d messages", cfg.popSize)
	for run := range cfg.runs {
		lat := &latencies{}
		p, err := dialPOP3(cfg.pop3, cfg.addr("pop"), cfg.password)
		if err != nil {
			return err
		}
		start := time.Now()
		for i := 1; i <= cfg.popSize; i++ {
			t0 := time.Now()
			if _, err := p.retr(i); err != nil {
				p.Close()
				return fmt.Errorf("RETR %d: %w", i, err)
			}
			lat.add(time.Since(t0))
		}
		elapsed := time.Since(start)
		p.Close()
		res.add("pop3-retr", param, "total", "ms", "lower", ms(elapsed))
		res.add("pop3-retr", param, "RETR p50", "ms", "lower", lat.quantile(0.5))
		res.add("pop3-retr", param, "RETR p99", "ms", "lower", lat.quantile(0.99))
		slog.Info("pop3", "target", cfg.target, "run", run+1, "elapsed", elapsed.Round(time.Millisecond))
	}
	return nil
}
