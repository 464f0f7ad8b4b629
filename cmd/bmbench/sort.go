package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// imapSort times SORT by ARRIVAL, DATE, SUBJECT and FROM (RFC 5256) and
// THREAD REFERENCES on the sync INBOX, one connection, each timed per run
// with its object reads on bucketmail; every answer must hold every
// message. What the target does not advertise is reported as such
// ("SORT advertised" 0) and not measured.
func imapSort(ctx context.Context, cfg *config, res *results) error {
	const scenario = "imap-sort"
	param := fmt.Sprintf("%d messages", cfg.syncSize)
	ic, _, err := dialCounted(cfg, "sync")
	if err != nil {
		return err
	}
	defer ic.Close()
	caps, err := ic.capabilities()
	if err != nil {
		return err
	}
	sortOK, threadOK := caps["SORT"], caps["THREAD=REFERENCES"]
	res.add(scenario, param, "SORT advertised", "1 yes, 0 no", "", yes(sortOK))
	res.add(scenario, param, "THREAD=REFERENCES advertised", "1 yes, 0 no", "", yes(threadOK))
	if !sortOK || !threadOK {
		slog.Warn("sort: not advertised, not measured", "target", cfg.target, "SORT", sortOK, "THREAD=REFERENCES", threadOK)
	}
	if _, err := ic.cmd("SELECT INBOX"); err != nil {
		return err
	}
	total := ic.exists
	var queries []struct{ label, cmd, answer string }
	if sortOK {
		for _, key := range []string{"ARRIVAL", "DATE", "SUBJECT", "FROM"} {
			queries = append(queries, struct{ label, cmd, answer string }{"SORT " + key, "SORT (" + key + ") UTF-8 ALL", "SORT"})
		}
	}
	if threadOK {
		queries = append(queries, struct{ label, cmd, answer string }{"THREAD REFERENCES", "THREAD REFERENCES UTF-8 ALL", "THREAD"})
	}
	meter := &readMeter{ctx: ctx, url: cfg.metrics}
	for _, q := range queries {
		for run := range cfg.runs {
			if err := meter.start(); err != nil {
				return err
			}
			t0 := time.Now()
			lines, err := ic.collect("%s", q.cmd)
			d := time.Since(t0)
			if err != nil {
				return err
			}
			if n := answered(lines, q.answer); n != total {
				return fmt.Errorf("%s: %d messages in the answer, want %d", q.cmd, n, total)
			}
			res.add(scenario, param, q.label, "ms", "lower", ms(d))
			if err := meter.stop(res, scenario, param, q.label); err != nil {
				return err
			}
			slog.Info("sort", "target", cfg.target, "query", q.label, "run", run+1, "took", d.Round(time.Microsecond))
		}
	}
	return nil
}

// answered counts the message numbers in the untagged SORT or THREAD
// answer: "* SORT 2 3 1", "* THREAD (2)(3 6 (4 23)(44 7 96))".
func answered(lines []string, name string) int {
	n := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.EqualFold(f[1], name) {
			continue
		}
		for _, x := range strings.FieldsFunc(strings.Join(f[2:], " "), func(r rune) bool { return r == ' ' || r == '(' || r == ')' }) {
			if _, err := strconv.Atoi(x); err == nil {
				n++
			}
		}
	}
	return n
}
