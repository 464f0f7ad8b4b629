package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// Size of the scale-out run (the issue asks for 2,000 messages to 20 users).
const (
	scaleUsers    = 20
	scaleMessages = 2000
	scaleClients  = 8 // concurrent SMTP connections sending the batch
	scaleWorkers  = 3
	// scaleIdleLimit is how soon after the edge's 250 a client in IDLE on
	// another gateway must see the message (DESIGN.md invariant 7).
	scaleIdleLimit = time.Second
	// scaleDrain bounds each wait for the queue to drain.
	scaleDrain = 90 * time.Second
)

// cluster is every role of bucketmail as its own process, all on one
// redis-server and one S3 bucket.
type cluster struct {
	t       *testing.T
	env     []string // S3 credentials and --create-bucket, as an operator sets them
	storage []string // --store and --blobs
	st      *redis.DB
	users   []string
	ids     []string // user IDs, in the order of users

	edge     *server
	workers  []*server
	gwA, gwB *server
}

// TestScaleOut runs 1 edge, 3 workers and 2 gateways as separate processes
// on one Redis and one bucket, sends 2,000 messages from concurrent SMTP
// clients while one worker is SIGKILLed (and not restarted), checks that a
// client in IDLE on gateway B hears of a new message within a second of the
// edge's 250, that every message is in its mailbox exactly once, and then
// that after FLUSHALL on Redis `bucketmail reindex --all` brings every
// message back exactly once (invariants 1, 2, 3 and 7).
func TestScaleOut(t *testing.T) {
	start := time.Now()
	c := newCluster(t)
	c.createUsers()
	c.startRoles()
	t.Logf("cluster up in %s", time.Since(start).Round(time.Millisecond))

	plan, total := scalePlan(c.users)
	want := expectedSubjects(plan)

	phase := time.Now()
	c.sendKillingWorker(plan, total)
	c.waitDrained(total, "after the batch")
	t.Logf("batch of %d messages (%d deliveries) sent and delivered in %s",
		scaleMessages, total, time.Since(phase).Round(time.Millisecond))

	// One more message, to the user an IDLE client on gateway B watches.
	latency := c.idleLatency(c.users[0], "scale idle")
	want[c.users[0]] = append(want[c.users[0]], "scale idle")
	total++
	t.Logf("IDLE on gateway B saw the message %s after the edge's 250", latency.Round(time.Millisecond))
	if latency > scaleIdleLimit {
		t.Errorf("IDLE latency %s, want at most %s", latency, scaleIdleLimit)
	}
	c.waitDrained(total, "after the IDLE message")
	c.checkQueueCommand()
	c.checkMailboxes(c.gwA, want, "before the disaster")

	// The disaster: Redis loses everything; the bucket is the record.
	phase = time.Now()
	late := c.disaster(want)
	total += late
	c.waitDrained(total, "after reindex")
	c.checkMailboxes(c.gwA, want, "after FLUSHALL and reindex")
	t.Logf("recovered from FLUSHALL in %s; whole test %s",
		time.Since(phase).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// disaster follows the operator's procedure for a Redis that lost
// everything: with the workers stopped, one more message per user is
// accepted (so it is only queued), FLUSHALL loses every key, `bucketmail
// reindex --all` rebuilds from the bucket, and two new workers deliver what
// it re-enqueued. It adds the late messages to want and returns their
// number. (TestRedisLossWhileWorkersRun covers workers that keep running.)
func (c *cluster) disaster(want map[string][]string) int {
	t := c.t
	for _, w := range c.workers[1:] {
		w.stop(t)
	}
	for i, u := range c.users {
		subject := fmt.Sprintf("scale late %02d", i)
		mustSend(t, c.edge.addr("smtp"), "load@remote.example", []string{u}, message("load@remote.example", u, subject, "late"))
		want[u] = append(want[u], subject)
	}
	if qs, err := c.st.QueueStats(context.Background(), store.QueueInbound); err != nil || qs.Pending != len(c.users) {
		t.Fatalf("with no worker running: queue %+v, %v; want %d pending", qs, err, len(c.users))
	}

	if err := c.st.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	out := mustAdminEnv(t, c.env, t.TempDir(), "", append([]string{"reindex", "--all"}, c.storage...)...)
	t.Logf("reindex --all:\n%s", out)
	for range 2 {
		c.workers = append(c.workers, c.startWorker())
	}
	return len(c.users)
}

// logCount counts the log lines of s that contain sub.
func (s *server) logCount(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.log.String(), sub)
}

// newCluster starts redis-server and versitygw. The bucket does not exist:
// the first process creates it (BUCKETMAIL_CREATE_BUCKET).
func newCluster(t *testing.T) *cluster {
	return newClusterOn(t, testenv.Redis(t), testenv.S3(t), "scaleout")
}

// newClusterOn is the cluster of processes sharing rds and the bucket of
// s3srv, with a store handle of its own for the test's checks.
func newClusterOn(t *testing.T, rds *testenv.RedisServer, s3srv *testenv.S3Server, bucket string) *cluster {
	c := &cluster{
		t: t,
		env: []string{
			"BUCKETMAIL_S3_ACCESS_KEY=" + s3srv.AccessKey,
			"BUCKETMAIL_S3_SECRET_KEY=" + s3srv.SecretKey,
			"BUCKETMAIL_CREATE_BUCKET=true",
		},
		storage: []string{"--store", rds.URL(), "--blobs", s3srv.URL(bucket)},
	}
	c.st = testenv.OpenRedis(t, rds)
	return c
}

// mustAdminEnv runs an admin command with env that must succeed.
func mustAdminEnv(t *testing.T, env []string, dataDir, stdin string, args ...string) string {
	t.Helper()
	r := adminEnv(t, env, dataDir, stdin, args...)
	if r.code != 0 {
		t.Fatalf("bucketmail %v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// createUsers makes the domain and the users with the admin commands, each
// a process of its own with an empty data directory: nothing is local.
func (c *cluster) createUsers() {
	t := c.t
	mustAdminEnv(t, c.env, t.TempDir(), "", append([]string{"domain", "add", "scale.example"}, c.storage...)...)
	for i := range scaleUsers {
		u := fmt.Sprintf("user%02d@scale.example", i)
		mustAdminEnv(t, c.env, t.TempDir(), scalePassword(u)+"\n", append([]string{"user", "add", u, "--password-stdin"}, c.storage...)...)
		usr, err := c.st.UserByAddress(context.Background(), u)
		if err != nil {
			t.Fatalf("user %s after user add: %v", u, err)
		}
		c.users = append(c.users, u)
		c.ids = append(c.ids, usr.ID)
	}
}

func scalePassword(user string) string { return "pw-" + user }

// startRoles starts every role as its own process with its own data dir.
func (c *cluster) startRoles() {
	t := c.t
	off := []string{"--http-addr", ""}
	edgeArgs := append([]string{"edge", "--smtp-addr", "127.0.0.1:0", "--submission-addr", "", "--submissions-addr", ""}, off...)
	c.edge = startServerEnv(t, t, c.env, t.TempDir(), append(edgeArgs, c.storage...)...)
	for range scaleWorkers {
		c.workers = append(c.workers, c.startWorker())
	}
	gwArgs := append([]string{"gateway", "--imap-addr", "127.0.0.1:0", "--imaps-addr", "", "--pop3-addr", "", "--pop3s-addr", "", "--managesieve-addr", ""}, off...)
	c.gwA = startServerEnv(t, t, c.env, t.TempDir(), append(gwArgs, c.storage...)...)
	c.gwB = startServerEnv(t, t, c.env, t.TempDir(), append(gwArgs, c.storage...)...)
}

// startWorker starts a worker with a short lease (a killed worker's jobs
// come back soon), and snapshots and reconciler passes every second, so
// that they run during the test, beside the deliveries.
func (c *cluster) startWorker() *server {
	t := c.t
	args := []string{"worker", "--worker-lease", "2s", "--worker-concurrency", "4", "--http-addr", "",
		"--snapshot-interval", "1s", "--reconcile-interval", "1s", "--reconcile-grace", "2s"}
	return startServerEnv(t, t, c.env, t.TempDir(), append(args, c.storage...)...)
}

// scalePlan says who gets message i: user i%20, and every tenth message also
// the next user, so that one object is shared by two mailboxes.
func scalePlan(users []string) (plan [][]string, deliveries int) {
	for i := range scaleMessages {
		to := []string{users[i%len(users)]}
		if i%10 == 0 {
			to = append(to, users[(i+1)%len(users)])
		}
		plan = append(plan, to)
		deliveries += len(to)
	}
	return plan, deliveries
}

func scaleSubject(i int) string { return fmt.Sprintf("scale %04d", i) }

func expectedSubjects(plan [][]string) map[string][]string {
	want := map[string][]string{}
	for i, to := range plan {
		for _, u := range to {
			want[u] = append(want[u], scaleSubject(i))
		}
	}
	return want
}

// delivered counts the messages in every user's INBOX, from the index.
func (c *cluster) delivered() (int, error) {
	n := 0
	for _, id := range c.ids {
		mb, err := c.st.Mailbox(context.Background(), id, store.Inbox)
		if err != nil {
			return 0, err
		}
		n += int(mb.Messages)
	}
	return n, nil
}

// sendKillingWorker sends the plan over scaleClients connections and
// SIGKILLs the first worker once a quarter of the deliveries are made,
// while the clients are still sending. The killed worker stays dead: its
// claimed jobs must be taken over by the two others when their lease ends.
func (c *cluster) sendKillingWorker(plan [][]string, total int) {
	t := c.t
	var sent atomic.Int32
	errs := make(chan error, scaleClients)
	var wg sync.WaitGroup
	for k := range scaleClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sendShare(c.edge.addr("smtp"), plan, k, &sent)
		}()
	}
	sendDone := make(chan struct{})
	go func() { wg.Wait(); close(sendDone) }()

	victim := c.workers[0]
	deadline := time.Now().Add(scaleDrain)
	for {
		n, err := c.delivered()
		if err != nil {
			t.Fatal(err)
		}
		if n >= total/4 {
			break
		}
		select {
		case <-victim.done:
			t.Fatalf("worker exited before it was killed: %v", victim.err)
		case <-c.edge.done:
			t.Fatalf("edge exited: %v", c.edge.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d deliveries after %s", n, total, scaleDrain)
		}
		time.Sleep(10 * time.Millisecond)
	}
	victim.kill(t)
	n, _ := c.delivered()
	qs, _ := c.st.QueueStats(context.Background(), store.QueueInbound)
	t.Logf("worker pid %d killed after %d of %d deliveries, %d of %d messages sent; queue %+v",
		victim.cmd.Process.Pid, n, total, sent.Load(), scaleMessages, qs)
	select {
	case <-sendDone:
		t.Fatalf("every message was sent before the worker was killed: not mid-run")
	default:
	}
	<-sendDone
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("sending: %v", err)
		}
	}
	if got := sent.Load(); got != scaleMessages {
		t.Fatalf("%d of %d messages accepted", got, scaleMessages)
	}
}

// sendShare sends messages k, k+scaleClients, ... of plan over one
// connection; every message must be accepted with 250.
func sendShare(addr string, plan [][]string, k int, sent *atomic.Int32) error {
	c, err := smtp.DialStartTLS(addr, clientTLS())
	if err != nil {
		return err
	}
	defer c.Close()
	for i := k; i < len(plan); i += scaleClients {
		subject := scaleSubject(i)
		msg := message("load@remote.example", plan[i][0], subject, "body of "+subject)
		if err := send(c, "load@remote.example", plan[i], msg); err != nil {
			return fmt.Errorf("client %d, message %d: %w", k, i, err)
		}
		sent.Add(1)
	}
	return c.Quit()
}

// waitDrained waits until the inbound queue is empty and total deliveries
// are in the index, and checks that nothing was dead-lettered.
func (c *cluster) waitDrained(total int, when string) {
	t := c.t
	t.Helper()
	start := time.Now()
	eventually(t, scaleDrain, "queue drained "+when, func() (bool, string) {
		qs, err := c.st.QueueStats(context.Background(), store.QueueInbound)
		if err != nil {
			return false, err.Error()
		}
		n, err := c.delivered()
		if err != nil {
			return false, err.Error()
		}
		return qs.Pending+qs.InFlight+qs.Delayed == 0 && n >= total,
			fmt.Sprintf("%+v, %d of %d delivered", qs, n, total)
	})
	if qs, _ := c.st.QueueStats(context.Background(), store.QueueInbound); qs.Dead != 0 {
		t.Errorf("%s: %d jobs dead-lettered", when, qs.Dead)
	}
	t.Logf("queue drained %s (waited %s)", when, time.Since(start).Round(time.Millisecond))
}

// checkQueueCommand checks that `bucketmail queue --json` on Redis agrees
// that the queues are empty.
func (c *cluster) checkQueueCommand() {
	t := c.t
	var rep struct {
		Queues []struct {
			Name                             string
			Pending, InFlight, Delayed, Dead int
		} `json:"queues"`
	}
	out := mustAdminEnv(t, c.env, t.TempDir(), "", append([]string{"queue", "--json"}, c.storage...)...)
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Queues) != 2 {
		t.Fatalf("queue --json: %v\n%s", err, out)
	}
	for _, q := range rep.Queues {
		if q.Pending+q.InFlight+q.Delayed+q.Dead != 0 {
			t.Errorf("queue --json: %s not empty: %+v", q.Name, q)
		}
	}
}

// idleLatency sends one message to user through the edge and returns the
// time from the edge's 250 to the EXISTS seen by a client in IDLE on
// gateway B.
func (c *cluster) idleLatency(user, subject string) time.Duration {
	t := c.t
	exists := make(chan uint32, 16)
	idler := dialIMAP(t, c.gwB.addr("imap"), user, scalePassword(user), &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	})
	defer idler.Logout()
	sel, err := idler.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	idle, err := idler.Idle()
	if err != nil {
		t.Fatalf("IDLE: %v", err)
	}
	mustSend(t, c.edge.addr("smtp"), "load@remote.example", []string{user}, message("load@remote.example", user, subject, "idle"))
	accepted := time.Now()
	var latency time.Duration
	select {
	case n := <-exists:
		latency = time.Since(accepted)
		if n != sel.NumMessages+1 {
			t.Errorf("IDLE reported EXISTS %d, want %d", n, sel.NumMessages+1)
		}
	case <-time.After(10 * scaleIdleLimit):
		t.Fatalf("no EXISTS during IDLE on gateway B within %s of the 250", 10*scaleIdleLimit)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("IDLE end: %v", err)
	}
	return latency
}

// checkMailboxes reads every user's INBOX over IMAP on gw and checks that it
// holds exactly the expected subjects, each once.
func (c *cluster) checkMailboxes(gw *server, want map[string][]string, when string) {
	t := c.t
	t.Helper()
	for _, u := range c.users {
		imc := dialIMAP(t, gw.addr("imap"), u, scalePassword(u), nil)
		got := subjects(listMailbox(t, imc, "INBOX"))
		slices.Sort(got)
		exp := slices.Clone(want[u])
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("%s: %s holds %d messages, want %d; duplicates %v, missing %v",
				when, u, len(got), len(exp), duplicates(got), missing(exp, got))
		}
		if err := imc.Logout().Wait(); err != nil {
			t.Errorf("LOGOUT: %v", err)
		}
	}
}

// TestRedisLossWhileWorkersRun: Redis loses everything (FLUSHALL) while a
// worker keeps running, as it would in production, and its snapshotter and
// reconciler make a few passes against the empty Redis before the operator
// runs `bucketmail reindex --all`. The bucket is the record (invariant 2):
// the reindex must still bring back the directory and every message, once.
func TestRedisLossWhileWorkersRun(t *testing.T) {
	c := newCluster(t)
	const user = "carol@loss.example"
	mustAdminEnv(t, c.env, t.TempDir(), "", append([]string{"domain", "add", "loss.example"}, c.storage...)...)
	mustAdminEnv(t, c.env, t.TempDir(), scalePassword(user)+"\n", append([]string{"user", "add", user, "--password-stdin"}, c.storage...)...)
	args := append([]string{"run", "--worker-lease", "2s", "--snapshot-interval", "1s", "--reconcile-interval", "1s", "--reconcile-grace", "1s"}, listenerFlags...)
	srv := startServerEnv(t, t, c.env, t.TempDir(), append(args, c.storage...)...)

	want := []string{"loss 1", "loss 2", "loss 3"}
	for _, s := range want {
		mustSend(t, srv.addr("smtp"), "load@remote.example", []string{user}, message("load@remote.example", user, s, "body"))
	}
	u, err := c.st.UserByAddress(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "3 messages delivered", func() (bool, string) {
		mb, err := c.st.Mailbox(context.Background(), u.ID, store.Inbox)
		return err == nil && mb.Messages == 3, fmt.Sprintf("%+v, %v", mb, err)
	})
	passes := func(n int, what string) {
		s0, r0 := srv.logCount(`"msg":"snapshot pass"`), srv.logCount(`"msg":"reconcile pass"`)
		eventually(t, 30*time.Second, what, func() (bool, string) {
			s, r := srv.logCount(`"msg":"snapshot pass"`)-s0, srv.logCount(`"msg":"reconcile pass"`)-r0
			return s >= n && r >= n, fmt.Sprintf("%d snapshot and %d reconcile passes", s, r)
		})
	}
	passes(2, "two snapshot and reconcile passes after the deliveries")

	if err := c.st.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	passes(3, "three snapshot and reconcile passes on the emptied Redis")
	out := mustAdminEnv(t, c.env, t.TempDir(), "", append([]string{"reindex", "--all"}, c.storage...)...)
	if _, err := c.st.UserByAddress(context.Background(), user); err != nil {
		t.Fatalf("after reindex --all, %s is not in the directory (%v): passes made on the emptied Redis "+
			"must not replace what reindex restores from. reindex said:\n%s", user, err, out)
	}
	eventually(t, 30*time.Second, "3 messages back", func() (bool, string) {
		mb, err := c.st.Mailbox(context.Background(), u.ID, store.Inbox)
		return err == nil && mb.Messages >= 3, fmt.Sprintf("%+v, %v", mb, err)
	})
	imc := dialIMAP(t, srv.addr("imap"), user, scalePassword(user), nil)
	got := subjects(listMailbox(t, imc, "INBOX"))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("after reindex INBOX holds %v, want %v", got, want)
	}
}
