package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/worker"
)

const queueSynopsis = "bucketmail queue [--json] [FLAGS]"

// deadJobsShown is how many dead jobs per queue the command lists.
const deadJobsShown = 100

// queueReport is what "bucketmail queue --json" prints.
type queueReport struct {
	Queues []queueState `json:"queues"`
}

type queueState struct {
	Name     string    `json:"name"`
	Pending  int       `json:"pending"`
	InFlight int       `json:"in_flight"`
	Delayed  int       `json:"delayed"`
	Dead     int       `json:"dead"`
	DeadJobs []deadJob `json:"dead_jobs"`
}

type deadJob struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`          // see jobKind
	Via        string    `json:"via,omitempty"` // the alias or SRS address a forward or returned bounce was made for
	From       string    `json:"from"`
	To         []string  `json:"to"`
	ReceivedAt time.Time `json:"received_at"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error"`
}

func (a *app) cmdQueue(ctx context.Context, args []string) error {
	var asJSON bool
	c, err := a.openAdmin("queue", queueSynopsis, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	})
	if err != nil {
		return err
	}
	if err := c.wantArgs(0, 0, "no arguments"); err != nil {
		return c.done(err)
	}
	rep, err := c.queueReport(ctx)
	if err == nil {
		if asJSON {
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(rep)
		} else {
			err = rep.print(a)
		}
	}
	return c.done(err)
}

func (c *adminCmd) queueReport(ctx context.Context) (queueReport, error) {
	var rep queueReport
	for _, name := range []string{store.QueueInbound, store.QueueOutbound} {
		s, err := c.store.QueueStats(ctx, name)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", name, err)
		}
		q := queueState{Name: name, Pending: s.Pending, InFlight: s.InFlight, Delayed: s.Delayed, Dead: s.Dead, DeadJobs: []deadJob{}}
		if s.Dead > 0 {
			jobs, err := c.store.DeadJobs(ctx, name, deadJobsShown)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", name, err)
			}
			for _, j := range jobs {
				kind, via := jobKind(j)
				q.DeadJobs = append(q.DeadJobs, deadJob{
					ID: j.ID, Kind: kind, Via: via, From: j.From, To: j.To, ReceivedAt: j.ReceivedAt,
					Attempts: j.Attempts, LastError: j.LastError,
				})
			}
		}
		rep.Queues = append(rep.Queues, q)
	}
	return rep, nil
}

func (r queueReport) print(a *app) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tPENDING\tIN FLIGHT\tDELAYED\tDEAD")
	for _, q := range r.Queues {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", q.Name, q.Pending, q.InFlight, q.Delayed, q.Dead)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, q := range r.Queues {
		if len(q.DeadJobs) == 0 {
			continue
		}
		fmt.Fprintf(a.stdout, "\nDead jobs in %s:\n", q.Name)
		tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tRECEIVED\tFROM\tTO\tATTEMPTS\tLAST ERROR")
		for _, j := range q.DeadJobs {
			from := j.From
			if from == "" {
				from = "<>"
			}
			kind := j.Kind
			if j.Via != "" {
				kind += " " + j.Via
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", j.ID, kind, j.ReceivedAt.UTC().Format(time.RFC3339), from,
				strings.Join(j.To, ","), j.Attempts, oneLine(j.LastError))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// jobKind tells where a job came from: "mx" (port 25), "submission",
// "dsn" (a delivery status notification made here), "forward" (a copy for
// an outside alias target, via the alias) or "srs-return" (a bounce to an
// SRS address sent back, via that address).
func jobKind(j store.Job) (kind, via string) {
	if v, ok := strings.CutPrefix(j.Auth, worker.ForwardAuth); ok {
		return "forward", v
	}
	if v, ok := strings.CutPrefix(j.Auth, worker.ReturnAuth); ok {
		return "srs-return", v
	}
	switch {
	case strings.HasPrefix(j.Auth, "MAILER-DAEMON@"):
		return "dsn", ""
	case j.Auth != "":
		return "submission", ""
	}
	return "mx", ""
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
