package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// mixOps are the commands of the mixed workload with their weights: what
// a mail client does most (headers of a page, reading a message, flags)
// and the rest.
var mixOps = []struct {
	name   string
	weight int
}{
	{"FETCH headers", 25},
	{"FETCH BODY[]", 20},
	{"STORE", 15},
	{"SEARCH", 10},
	{"SELECT", 10},
	{"APPEND", 10},
	{"IDLE", 10},
}

func pickOp(rng *rand.Rand) string {
	total := 0
	for _, o := range mixOps {
		total += o.weight
	}
	n := rng.IntN(total)
	for _, o := range mixOps {
		if n < o.weight {
			return o.name
		}
		n -= o.weight
	}
	return mixOps[0].name
}

// mixedWorkload runs clients concurrent sessions, each on its own user's
// INBOX, for the configured duration, and reports operations per second
// and per-command latency.
func mixedWorkload(ctx context.Context, cfg *config, res *results) error {
	for _, clients := range cfg.mixClients {
		param := strconv.Itoa(clients) + " clients"
		for run := range cfg.runs {
			// Each run starts from rest, as the scenario does: the texts
			// the APPENDs of the run before left to index are indexed.
			if err := awaitIndexed(ctx, cfg, "mixed"); err != nil {
				return err
			}
			lats := map[string]*latencies{}
			for _, o := range mixOps {
				lats[o.name] = &latencies{}
			}
			conns := make([]*imapConn, clients)
			for i := range conns {
				ic, err := dialIMAP(cfg.imap)
				if err == nil {
					err = ic.login(cfg.addr(fmt.Sprintf("mix%02d", i%cfg.mixUsers+1)), cfg.password)
				}
				if err == nil {
					_, err = ic.cmd("SELECT INBOX")
				}
				if err != nil {
					return fmt.Errorf("mixed: client %d: %w", i, err)
				}
				conns[i] = ic
			}
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			deadline := time.Now().Add(cfg.mixDuration)
			start := time.Now()
			for i, ic := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer ic.Close()
					rng := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
					for time.Now().Before(deadline) && ctx.Err() == nil {
						op := pickOp(rng)
						t0 := time.Now()
						if err := mixOp(cfg, ic, op, rng); err != nil {
							errs <- fmt.Errorf("client %d: %s: %w", i, op, err)
							return
						}
						lats[op].add(time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			close(errs)
			if err := <-errs; err != nil {
				return fmt.Errorf("mixed %s: %w", param, err)
			}
			total := 0
			for _, o := range mixOps {
				l := lats[o.name]
				total += l.count()
				res.add("imap-mixed", param, o.name+" p50", "ms", "lower", l.quantile(0.5))
				res.add("imap-mixed", param, o.name+" p99", "ms", "lower", l.quantile(0.99))
			}
			ops := float64(total) / elapsed.Seconds()
			res.add("imap-mixed", param, "operations", "ops/s", "higher", ops)
			slog.Info("imap mixed", "target", cfg.target, "clients", clients, "run", run+1, "ops", fmt.Sprintf("%.0f/s", ops))
		}
	}
	return nil
}

// mixOp runs one operation of the mixed workload.
func mixOp(cfg *config, ic *imapConn, op string, rng *rand.Rand) error {
	n := ic.exists
	if n == 0 && op != "APPEND" && op != "SELECT" && op != "IDLE" {
		op = "SELECT"
	}
	pick := func() int { return rng.IntN(n) + 1 }
	var err error
	switch op {
	case "FETCH headers":
		// A page of 20, as a client listing a folder does.
		from := max(1, pick()-19)
		_, err = ic.cmd("FETCH %d:%d (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)])", from, min(n, from+19))
	case "FETCH BODY[]":
		var r result
		r, err = ic.cmd("FETCH %d (UID BODY.PEEK[])", pick())
		if err == nil && r.bytes < 1000 {
			err = fmt.Errorf("FETCH BODY[] returned %d bytes", r.bytes)
		}
	case "STORE":
		if rng.IntN(2) == 0 {
			_, err = ic.cmd(`STORE %d +FLAGS.SILENT (\Seen)`, pick())
		} else {
			_, err = ic.cmd(`STORE %d -FLAGS.SILENT (\Seen)`, pick())
		}
	case "SEARCH":
		_, err = ic.cmd("UID SEARCH UNSEEN")
	case "SELECT":
		_, err = ic.cmd("SELECT INBOX")
	case "APPEND":
		msg := messageText(loadSender, "client@bench.test", fmt.Sprintf("append %d", rng.Uint32()), cfg.size, false, rng)
		err = ic.appendMsg("INBOX", msg)
	case "IDLE":
		err = ic.idleRoundTrip()
	}
	return err
}
