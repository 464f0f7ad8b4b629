package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// newChaosCluster starts redis-server, the S3 server, the users, and the
// edge, two workers and the gateway, each its own process.
func newChaosCluster(t *testing.T) *chaosCluster {
	rds := testenv.Redis(t)
	s3srv := testenv.S3(t)
	c := newClusterOn(t, rds, s3srv, "chaos")
	cc := &chaosCluster{cluster: c, redis: rds, s3: s3srv}

	mustAdminEnv(t, c.env, t.TempDir(), "", append([]string{"domain", "add", "chaos.example"}, c.storage...)...)
	addrs := []string{chaosProbeUser}
	for i := range chaosUsers {
		addrs = append(addrs, fmt.Sprintf("user%d@chaos.example", i))
	}
	for i, u := range addrs {
		mustAdminEnv(t, c.env, t.TempDir(), scalePassword(u)+"\n", append([]string{"user", "add", u, "--password-stdin"}, c.storage...)...)
		usr, err := c.st.UserByAddress(context.Background(), u)
		if err != nil {
			t.Fatalf("user %s after user add: %v", u, err)
		}
		c.ids = append(c.ids, usr.ID)
		if i > 0 {
			c.users = append(c.users, u)
		}
	}
	cc.edge = cc.startEdge()
	for range 2 {
		c.workers = append(c.workers, c.startWorker())
	}
	gwArgs := []string{"gateway", "--imap-addr", "127.0.0.1:0", "--imaps-addr", "", "--pop3-addr", "", "--pop3s-addr", "", "--managesieve-addr", "", "--http-addr", "127.0.0.1:0"}
	cc.gw = startServerEnv(t, t, c.env, t.TempDir(), append(gwArgs, c.storage...)...)
	return cc
}

// startEdge starts an edge with only its MX listener.
func (cc *chaosCluster) startEdge() *server {
	args := []string{"edge", "--smtp-addr", "127.0.0.1:0", "--submission-addr", "", "--submissions-addr", "", "--http-addr", ""}
	e := startServerEnv(cc.t, cc.t, cc.env, cc.t.TempDir(), append(args, cc.storage...)...)
	cc.edges = append(cc.edges, e)
	return e
}

// pollIMAP keeps IMAP sessions going on the gateway until stop: log in,
// SELECT, STATUS, LOGOUT, one session at a time. Errors are expected while
// a backend is down; the point is that the gateway lives through them
// without leaking.
func (cc *chaosCluster) pollIMAP(stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	addr, user := cc.gw.addr("imap"), cc.users[0]
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			c, err := imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: clientTLS()})
			if err != nil {
				continue
			}
			watchdog := time.AfterFunc(15*time.Second, func() { c.Close() })
			if c.Login(user, scalePassword(user)).Wait() == nil {
				_, _ = c.Select("INBOX", nil).Wait()
				_ = c.Logout().Wait()
			}
			watchdog.Stop()
			c.Close()
		}
	}()
	return done
}

// waitSettled waits until the queues are empty, then until the reconciler
// made passes after its grace period (re-enqueueing the objects of edges
// killed between writing and enqueueing), then until the queues are empty
// again.
func (cc *chaosCluster) waitSettled() {
	t := cc.t
	t.Helper()
	drained := func(when string) {
		eventually(t, 2*time.Minute, "queues drained "+when, func() (bool, string) {
			var all []string
			empty := true
			for _, q := range []string{store.QueueInbound, store.QueueOutbound} {
				qs, err := cc.st.QueueStats(context.Background(), q)
				if err != nil {
					return false, err.Error()
				}
				empty = empty && qs.Pending+qs.InFlight+qs.Delayed == 0
				all = append(all, fmt.Sprintf("%s %+v", q, qs))
			}
			return empty, strings.Join(all, "; ")
		})
	}
	drained("after the load")
	passes := func() int {
		n := 0
		for _, w := range cc.workers {
			n += w.logCount(`"msg":"reconcile pass"`)
		}
		return n
	}
	p0, since := passes(), time.Now()
	eventually(t, time.Minute, "reconcile passes", func() (bool, string) {
		p := passes() - p0
		return p >= 3 && time.Since(since) > 4*time.Second, fmt.Sprintf("%d passes", p)
	})
	drained("after the reconciler")
	cc.checkDead()
}

// checkDead: a dead-lettered job fails the test unless the edge refused its
// transaction. A refused one can be dead when Redis executed an enqueue
// the edge gave up on (a timeout against a frozen or dying Redis): the
// edge answered 4xx and deleted the object, so the job finds nothing to
// deliver; the client sent the message again. That is reported.
func (cc *chaosCluster) checkDead() {
	t := cc.t
	t.Helper()
	dead, err := cc.st.DeadJobs(context.Background(), store.QueueInbound, 100)
	if err != nil {
		t.Fatalf("dead jobs: %v", err)
	}
	for _, j := range dead {
		var line string
		for _, e := range cc.edges {
			if l := e.logLine(`"queue_id":"` + j.ID + `"`); l != "" {
				line = l
			}
		}
		if line == "" || strings.Contains(line, `"result":"queued"`) {
			t.Errorf("job %s to %v dead-lettered after %d attempts (%s); edge: %s", j.ID, j.To, j.Attempts, j.LastError, line)
			continue
		}
		cc.deadRefused++
		t.Logf("dead letter of a refused transaction: job %s to %v (%s); edge: %s", j.ID, j.To, j.LastError, line)
	}
}

// logLine is the last log line of s containing sub, "" if none.
func (s *server) logLine(sub string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(s.log.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], sub) {
			return lines[i]
		}
	}
	return ""
}

// chaosReport is the figures of a chaos run.
type chaosReport struct {
	messages, accepted, refusals, unknowns int
	abandoned                              int // never got 250
	windowDups                             int // 250-acked, twice: an earlier attempt had no reply
	refusedDups                            int // 250-acked, twice: only 4xx before
	unackedPresent                         int // no 250 ever, yet delivered (unknown outcome)
	probes, probeDups                      int
	deadRefused                            int
	maxRecovery, maxRefusal                time.Duration
}

func (r chaosReport) String() string {
	return fmt.Sprintf("%d messages: %d accepted (250), %d attempts refused (4xx/5xx/connect), %d attempts with unknown outcome, "+
		"%d never accepted (%d of them delivered anyway); duplicates in SMTP's window %d, after a 4xx %d; "+
		"probes %d (%d duplicated); dead letters of refused transactions %d; slowest refusal during an outage %s; max recovery %s",
		r.messages, r.accepted, r.refusals, r.unknowns, r.abandoned, r.unackedPresent, r.windowDups, r.refusedDups,
		r.probes, r.probeDups, r.deadRefused, r.maxRefusal.Round(time.Millisecond), r.maxRecovery.Round(time.Millisecond))
}

// checkDelivered reads every mailbox over IMAP on the gateway and checks
// the attempts of tr against what is there.
func (cc *chaosCluster) checkDelivered(tr, probes *tracker) chaosReport {
	t := cc.t
	t.Helper()
	copies := map[string]int{} // subject → number in its mailbox
	for _, u := range append([]string{chaosProbeUser}, cc.users...) {
		imc := dialIMAP(t, cc.gw.addr("imap"), u, scalePassword(u), nil)
		for _, s := range subjects(listMailbox(t, imc, "INBOX")) {
			copies[s]++
		}
		if err := imc.Logout().Wait(); err != nil {
			t.Errorf("LOGOUT: %v", err)
		}
		imc.Close()
	}
	var rep chaosReport
	tr.mu.Lock()
	defer tr.mu.Unlock()
	rep.messages = len(tr.attempts)
	for subject, as := range tr.attempts {
		acked, sawUnknown := false, false
		for _, a := range as {
			switch a.result {
			case accepted:
				acked = true
			case unknown:
				sawUnknown = true
				rep.unknowns++
			default:
				rep.refusals++
			}
		}
		n := copies[subject]
		switch {
		case acked && n == 0:
			t.Errorf("%s got 250 (attempts %s) but is not in %s", subject, describe(as), tr.rcpt[subject])
		case n > len(as):
			t.Errorf("%s is in %s %d times after %d attempts (%s)", subject, tr.rcpt[subject], n, len(as), describe(as))
		case acked && n > 1 && sawUnknown:
			rep.windowDups += n - 1
			t.Logf("duplicate in SMTP's window: %s ×%d (%s)", subject, n, describe(as))
		case acked && n > 1:
			rep.refusedDups += n - 1
			if len(as) == 1 {
				t.Errorf("%s got one clean 250 but is in %s %d times", subject, tr.rcpt[subject], n)
			} else {
				t.Logf("duplicate after 4xx: %s ×%d (%s)", subject, n, describe(as))
			}
		case !acked && n > 0:
			rep.unackedPresent++
			t.Logf("never acknowledged, delivered %d times: %s (%s)", n, subject, describe(as))
		}
		if acked {
			rep.accepted++
		} else {
			rep.abandoned++
		}
	}
	probes.mu.Lock()
	defer probes.mu.Unlock()
	rep.probes = len(probes.attempts)
	for subject, as := range probes.attempts {
		if as[len(as)-1].result == accepted && copies[subject] == 0 {
			t.Errorf("probe %s got 250 but is not delivered", subject)
		}
		if copies[subject] > 1 {
			rep.probeDups++
		}
	}
	return rep
}

func describe(as []attempt) string {
	var parts []string
	for _, a := range as {
		switch a.result {
		case accepted:
			parts = append(parts, "250")
		case unknown:
			parts = append(parts, "no reply")
		default:
			parts = append(parts, strconv.Itoa(a.code))
		}
	}
	return strings.Join(parts, ",")
}

// usage is what a process holds.
type usage struct{ goroutines, fds int }

// gatewayUsage reads the gateway's goroutines (go_goroutines on /metrics)
// and its open file descriptors (/proc/PID/fd).
func (cc *chaosCluster) gatewayUsage() usage {
	t := cc.t
	t.Helper()
	resp, err := http.Get("http://" + cc.gw.addr("metrics") + "/metrics")
	if err != nil {
		t.Fatalf("gateway /metrics: %v", err)
	}
	defer resp.Body.Close()
	u := usage{goroutines: -1}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			u.goroutines = int(f)
		}
	}
	if u.goroutines < 0 {
		t.Fatalf("gateway /metrics has no go_goroutines")
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cc.gw.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("gateway fds: %v", err)
	}
	u.fds = len(fds)
	return u
}

// Leak margins: idle pools (Redis connections, HTTP keep-alive to S3, each
// with its goroutines) may hold a few more after the soak than after the
// warm-up; a leak per session or per outage grows far beyond.
const (
	leakGoroutines = 25
	leakFDs        = 15
)

// checkNoLeak compares the idle gateway with its warm-up figures.
func (cc *chaosCluster) checkNoLeak(warm usage) {
	t := cc.t
	t.Helper()
	var now usage
	deadline := time.Now().Add(20 * time.Second)
	for {
		now = cc.gatewayUsage()
		if now.goroutines <= warm.goroutines+leakGoroutines && now.fds <= warm.fds+leakFDs {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("gateway after the soak: %d goroutines, %d fds; after warm-up %d, %d (margins %d, %d)",
				now.goroutines, now.fds, warm.goroutines, warm.fds, leakGoroutines, leakFDs)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("gateway goroutines %d → %d, open fds %d → %d", warm.goroutines, now.goroutines, warm.fds, now.fds)
}

// warmUp sends a message to every user and reads it over IMAP, so that the
// gateway's pools are in use before its resources are first measured.
func (cc *chaosCluster) warmUp() usage {
	t := cc.t
	t.Helper()
	for _, u := range cc.users {
		mustSend(t, cc.edge.addr("smtp"), "load@remote.example", []string{u}, message("load@remote.example", u, "warm-up", "warm"))
	}
	for _, u := range cc.users {
		eventually(t, 30*time.Second, "warm-up delivered", func() (bool, string) {
			imc := dialIMAP(t, cc.gw.addr("imap"), u, scalePassword(u), nil)
			defer imc.Close()
			n := len(listMailbox(t, imc, "INBOX"))
			_ = imc.Logout().Wait()
			return n == 1, fmt.Sprintf("%s has %d messages", u, n)
		})
	}
	return cc.gatewayUsage()
}
