package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpJob is one message for one recipient.
type smtpJob struct {
	rcpt      string
	subject   string
	multipart bool
	marker    string // a word added to the end of the (single-part) body
}

// smtpRun is what sending a batch of messages measured.
type smtpRun struct {
	elapsed  time.Duration
	latency  *latencies  // MAIL FROM to the 250 after the data
	accepted []time.Time // when each job got its 250
}

const loadSender = "load@bench.example.net"

// sendAll sends jobs over sessions concurrent SMTP sessions, each a
// connection that sends one message after the other. next, when not nil,
// blocks until job i may start (pacing). Any refusal ends the run with an
// error: the benchmark loses nothing silently.
func sendAll(ctx context.Context, addr string, sessions, size int, jobs []smtpJob, next func(i int)) (*smtpRun, error) {
	run := &smtpRun{latency: &latencies{}, accepted: make([]time.Time, len(jobs))}
	work := make(chan int)
	errs := make(chan error, sessions)
	var wg sync.WaitGroup
	start := time.Now()
	for s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := session(addr, size, jobs, work, run, uint64(s)); err != nil {
				errs <- err
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range jobs {
			if next != nil {
				next(i)
			}
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	run.elapsed = time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	for i, t := range run.accepted {
		if t.IsZero() {
			return nil, fmt.Errorf("message %d was not sent", i)
		}
	}
	return run, nil
}

func session(addr string, size int, jobs []smtpJob, work chan int, run *smtpRun, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	var c *smtp.Client
	defer func() {
		if c != nil {
			c.Quit()
		}
	}()
	for i := range work {
		j := jobs[i]
		if c == nil {
			var err error
			if c, err = smtp.Dial(addr); err != nil {
				drain(work)
				return err
			}
			if err := c.Hello("bench.example.net"); err != nil {
				drain(work)
				return err
			}
		}
		msg := messageText(loadSender, j.rcpt, j.subject, size, j.multipart && j.marker == "", rng)
		if j.marker != "" {
			msg = withMarker(msg, j.marker)
		}
		t0 := time.Now()
		if err := sendOne(c, j.rcpt, msg); err != nil {
			drain(work)
			return fmt.Errorf("message to %s: %w", j.rcpt, err)
		}
		now := time.Now()
		run.latency.add(now.Sub(t0))
		run.accepted[i] = now
	}
	return nil
}

func sendOne(c *smtp.Client, rcpt string, msg []byte) error {
	if err := c.Mail(loadSender, nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

// drain empties work so that the dispatcher does not block after a
// session failed.
func drain(work chan int) {
	go func() {
		for range work {
		}
	}()
}
