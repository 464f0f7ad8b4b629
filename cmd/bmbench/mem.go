package main

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procMemory sums Rss and Pss (KiB) of the processes, from
// /proc/PID/smaps_rollup. Pss shares each shared page among the processes
// that map it, so for many processes of one program it is what they cost
// together; for one process it is about its Rss.
func procMemory(pids []int) (rss, pss int64, err error) {
	for _, pid := range pids {
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue // a process that ended meanwhile
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(fs[1], 10, 64)
			switch fs[0] {
			case "Rss:":
				rss += v
			case "Pss:":
				pss += v
			}
		}
		f.Close()
	}
	return rss, pss, nil
}

// pidSource returns the PIDs to measure: a fixed one, or those a command
// prints (one per line or space-separated) each time it is asked.
func pidSource(pid int, cmd string) func() ([]int, error) {
	return func() ([]int, error) {
		if cmd == "" {
			return []int{pid}, nil
		}
		out, err := exec.Command("sh", "-c", cmd).Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cmd, err)
		}
		var pids []int
		for _, f := range strings.Fields(string(out)) {
			p, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("%s printed %q", cmd, f)
			}
			pids = append(pids, p)
		}
		return pids, nil
	}
}

// settle waits until the memory of the processes stops changing much,
// so that what a burst of logins left behind is not counted.
func settle(pids func() ([]int, error)) (rss, pss int64, err error) {
	var last int64 = -1
	for i := 0; i < 30; i++ {
		p, err := pids()
		if err != nil {
			return 0, 0, err
		}
		rss, pss, err = procMemory(p)
		if err != nil {
			return 0, 0, err
		}
		if last >= 0 && abs(pss-last) < max(256, pss/200) {
			return rss, pss, nil
		}
		last = pss
		time.Sleep(time.Second)
	}
	return rss, pss, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// idleMemory opens conns logged-in IMAP connections that then do nothing
// and reports the memory they added, per connection.
func idleMemory(cfg *config, conns int, pids func() ([]int, error), res *results) error {
	rss0, pss0, err := settle(pids)
	if err != nil {
		return err
	}
	open := make([]*imapConn, conns)
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ic, err := dialIMAP(cfg.imap)
				if err == nil {
					if err = ic.login(cfg.addr("mem"), cfg.password); err != nil {
						ic.Close()
					}
				}
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					for range work {
					}
					return
				}
				open[i] = ic
			}
		}()
	}
	for i := range conns {
		work <- i
	}
	close(work)
	wg.Wait()
	defer func() {
		for _, ic := range open {
			if ic != nil {
				ic.Close()
			}
		}
	}()
	select {
	case err := <-errs:
		return err
	default:
	}
	rss1, pss1, err := settle(pids)
	if err != nil {
		return err
	}
	// Every connection must still be there.
	for i, ic := range open {
		if i%max(1, conns/20) == 0 {
			if _, err := ic.cmd("NOOP"); err != nil {
				return fmt.Errorf("connection %d after the measurement: %w", i, err)
			}
		}
	}
	param := strconv.Itoa(conns) + " connections"
	res.add("memory", param, "RSS per idle IMAP connection", "KiB", "lower", float64(rss1-rss0)/float64(conns))
	res.add("memory", param, "PSS per idle IMAP connection", "KiB", "lower", float64(pss1-pss0)/float64(conns))
	slog.Info("memory", "target", cfg.target, "connections", conns,
		"rss_before_kib", rss0, "rss_after_kib", rss1, "pss_before_kib", pss0, "pss_after_kib", pss1)
	return nil
}
