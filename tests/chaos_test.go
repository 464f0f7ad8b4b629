package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

// Chaos test size: BUCKETMAIL_CHAOS_MESSAGES messages sent over
// BUCKETMAIL_CHAOS_DURATION while the schedule runs; BUCKETMAIL_CHAOS_SEED
// replays a schedule (it is logged). `make test` runs the defaults (under
// about a minute on 2 cores); `make chaos` a longer run.
const (
	chaosDefaultMessages = 300
	chaosDefaultDuration = 25 * time.Second
	chaosUsers           = 4
	chaosClients         = 4
	chaosProbeUser       = "probe@chaos.example"
	// chaosRecoveryLimit bounds the time from a backend's restart to the
	// next 250 of the edge.
	chaosRecoveryLimit = 30 * time.Second
)

// chaosEvent is one fault of the schedule.
type chaosEvent struct {
	name string
	// backend: while down, the edge must not answer 250 (a probe checks).
	backend bool
	down    func()
	up      func()
}

// window is a span during which a backend was down.
type window struct {
	what     string
	from, to time.Time
}

// TestChaos sends messages through 1 edge, 2 workers and 1 gateway (separate
// processes on one redis-server and one S3 server) while a seeded random
// schedule SIGKILLs and restarts workers, the edge, redis-server and the S3
// server, and freezes redis-server. It checks that
//   - while redis or S3 is down (or frozen) the edge never answers 250 to a
//     transaction whose final dot was sent during the outage, and a probe
//     sent during the outage gets 4xx or a connection error;
//   - after the queue drained and the reconciler ran, every message that got
//     250 is in its mailbox, exactly once unless an earlier attempt of it
//     ended without a reply (SMTP's duplicate window, counted and reported);
//   - the gateway, never killed, has as many goroutines and open files after
//     the soak, idle, as after the warm-up.
func TestChaos(t *testing.T) {
	n := envInt(t, "BUCKETMAIL_CHAOS_MESSAGES", chaosDefaultMessages)
	dur := chaosDefaultDuration
	if v := os.Getenv("BUCKETMAIL_CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("BUCKETMAIL_CHAOS_DURATION: %v", err)
		}
		dur = d
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("BUCKETMAIL_CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("BUCKETMAIL_CHAOS_SEED: %v", err)
		}
		seed = s
	}
	t.Logf("chaos: %d messages over %s, seed %d (BUCKETMAIL_CHAOS_SEED=%d replays the schedule)", n, dur, seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6368616f73))

	start := time.Now()
	cc := newChaosCluster(t)
	t.Logf("cluster up in %s", time.Since(start).Round(time.Millisecond))
	warm := cc.warmUp()

	tr := newTracker()
	var edgeAddr atomic.Value
	edgeAddr.Store(cc.edge.addr("smtp"))
	ld := &load{edge: &edgeAddr, users: cc.users, tr: tr, n: n, clients: chaosClients, every: dur / time.Duration(n)}
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	go func() { ld.run(stop); close(loadDone) }()
	imapDone := cc.pollIMAP(stop)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}()

	events := cc.events(&edgeAddr)
	probes := newTracker()
	var windows []window
	var maxRecovery time.Duration
	counts := map[string]int{}
	var order []int
	var maxRefusal time.Duration // longest wait for the edge's 4xx during an outage
	deadline := time.Now().Add(dur)
	for k := 0; time.Now().Before(deadline); k++ {
		sleepOrDone(loadDone, jitter(rng, 500*time.Millisecond, 1500*time.Millisecond))
		select {
		case <-loadDone:
			deadline = time.Time{} // load finished early: stop the schedule
			continue
		default:
		}
		// Every fault once per round, in a random order, so that even a
		// short run meets each of them.
		if len(order) == 0 {
			order = rng.Perm(len(events))
		}
		ev := events[order[0]]
		order = order[1:]
		counts[ev.name]++
		ev.down()
		from := time.Now()
		if ev.backend {
			a := sendOnce(edgeAddr.Load().(string), "probe@remote.example", chaosProbeUser,
				message("probe@remote.example", chaosProbeUser, fmt.Sprintf("probe down %03d", k), "probe"))
			if a.result == accepted {
				t.Errorf("%s: the probe got 250 while the backend was down", ev.name)
			}
			maxRefusal = max(maxRefusal, a.reply.Sub(from))
			probes.add(fmt.Sprintf("probe down %03d", k), chaosProbeUser, a)
		}
		time.Sleep(jitter(rng, 300*time.Millisecond, 2*time.Second))
		to := time.Now()
		ev.up()
		if ev.backend {
			windows = append(windows, window{ev.name, from, to})
		}
		rec := cc.recovery(t, edgeAddr.Load().(string), fmt.Sprintf("probe up %03d", k), probes)
		maxRecovery = max(maxRecovery, rec)
		t.Logf("%s: down %s, edge answered 250 again %s after", ev.name, to.Sub(from).Round(time.Millisecond), rec.Round(time.Millisecond))
	}
	t.Logf("schedule: %v", counts)

	select {
	case <-loadDone:
	case <-time.After(3 * time.Minute):
		t.Fatalf("load generator not done 3 minutes after the schedule: %d of %d sent", ld.sent.Load(), n)
	}
	close(stop)
	<-imapDone
	t.Logf("load done in %s: %d accepted, %d abandoned", time.Since(start).Round(time.Millisecond), ld.sent.Load(), ld.abandoned.Load())

	cc.waitSettled()
	checkOutageWindows(t, tr, windows)
	rep := cc.checkDelivered(tr, probes)
	rep.maxRecovery, rep.maxRefusal, rep.deadRefused = maxRecovery, maxRefusal, cc.deadRefused
	t.Logf("chaos figures: %s", rep)
	cc.checkNoLeak(warm)
	t.Logf("whole chaos test %s", time.Since(start).Round(time.Millisecond))
}

// events lists the faults the schedule picks from.
func (cc *chaosCluster) events(edgeAddr *atomic.Value) []chaosEvent {
	t := cc.t
	return []chaosEvent{
		{name: "kill worker", down: func() {
			i := len(cc.workers) - 2 // one of the two newest
			cc.workers[i].kill(t)
			cc.workers = append(cc.workers[:i], cc.workers[i+1:]...)
		}, up: func() { cc.workers = append(cc.workers, cc.startWorker()) }},
		{name: "kill edge", down: func() { cc.edge.kill(t) }, up: func() {
			cc.edge = cc.startEdge()
			edgeAddr.Store(cc.edge.addr("smtp"))
		}},
		{name: "kill redis", backend: true, down: cc.redis.Kill, up: cc.redis.Restart},
		{name: "kill s3", backend: true, down: cc.s3.Kill, up: cc.s3.Restart},
		{name: "pause redis", backend: true, down: cc.redis.Pause, up: cc.redis.Resume},
	}
}

// recovery sends probes until one gets 250 and returns how long it took.
func (cc *chaosCluster) recovery(t *testing.T, addr, subject string, probes *tracker) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		a := sendOnce(addr, "probe@remote.example", chaosProbeUser, message("probe@remote.example", chaosProbeUser, subject, "probe"))
		probes.add(subject, chaosProbeUser, a)
		if a.result == accepted {
			return time.Since(start)
		}
		if time.Since(start) > chaosRecoveryLimit {
			t.Fatalf("%s: no 250 from the edge %s after the fault ended (last code %d)", subject, chaosRecoveryLimit, a.code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOutageWindows: a 250 whose final dot was sent after a backend went
// down and which came before it was back means the edge accepted a message
// it could not have stored or queued.
func checkOutageWindows(t *testing.T, tr *tracker, windows []window) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for subject, as := range tr.attempts {
		for _, a := range as {
			if a.result != accepted {
				continue
			}
			for _, w := range windows {
				if a.dot.After(w.from) && a.reply.Before(w.to) {
					t.Errorf("%s: 250 at %s for a final dot sent at %s, inside the outage %s [%s, %s]",
						subject, a.reply.Format(time.StampMilli), a.dot.Format(time.StampMilli), w.what,
						w.from.Format(time.StampMilli), w.to.Format(time.StampMilli))
				}
			}
		}
	}
}

func jitter(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

func sleepOrDone(done <-chan struct{}, d time.Duration) {
	select {
	case <-done:
	case <-time.After(d):
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// chaosCluster is the processes of the chaos test.
type chaosCluster struct {
	*cluster
	redis *testenv.RedisServer
	s3    *testenv.S3Server
	gw    *server
	edges []*server // every edge started, for their logs

	deadRefused int // dead letters of transactions the edge refused
}
