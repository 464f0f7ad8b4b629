package e2e

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// costMessages is how many one-recipient messages TestRequestCosts sends.
const costMessages = 200

// TestRequestCosts measures what one inbound message with one recipient
// costs in object requests and Redis commands at the edge and at the worker,
// and what listing a mailbox costs at the gateway, with every role a
// process of the built binary. Object requests are counted by a reverse
// proxy in front of the S3 server, one per role; Redis commands by MONITOR,
// script-internal commands apart. It asserts the targets of invariants 4
// and 5: 1 PUT at the edge, 1 GET at the worker, no copies, no object read
// for a listing. docs/benchmarks.md reports the figures it logs.
func TestRequestCosts(t *testing.T) {
	rds := testenv.Redis(t)
	s3srv := testenv.S3(t)
	bucket := s3srv.Bucket(t, "costs")
	mon := startMonitor(t, rds.Addr)
	probe := mon.probe(t)
	env := []string{"BUCKETMAIL_S3_ACCESS_KEY=" + s3srv.AccessKey, "BUCKETMAIL_S3_SECRET_KEY=" + s3srv.SecretKey}
	proxies := map[string]*s3Counter{}
	storage := func(role string) []string {
		p := newS3Counter(t, s3srv.Endpoint)
		proxies[role] = p
		return []string{"--store", rds.URL(), "--blobs", p.url(bucket)}
	}
	const user = "dora@costs.example"
	mustAdminEnv(t, env, t.TempDir(), "", append([]string{"domain", "add", "costs.example"}, storage("admin")...)...)
	mustAdminEnv(t, env, t.TempDir(), scalePassword(user)+"\n", append([]string{"user", "add", user, "--password-stdin"}, storage("admin")...)...)
	u, err := probe.UserByAddress(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}

	off := []string{"--http-addr", ""}
	edge := startServerEnv(t, t, env, t.TempDir(), append(append([]string{"edge", "--smtp-addr", "127.0.0.1:0", "--submission-addr", "", "--submissions-addr", ""}, off...), storage("edge")...)...)
	gw := startServerEnv(t, t, env, t.TempDir(), append(append([]string{"gateway", "--imap-addr", "127.0.0.1:0", "--imaps-addr", "", "--pop3-addr", "", "--pop3s-addr", "", "--managesieve-addr", ""}, off...), storage("gateway")...)...)
	// Reconciler and snapshots off: their cost is measured apart, below.
	worker := startServerEnv(t, t, env, t.TempDir(), append(append([]string{"worker", "--reconcile-interval", "0", "--snapshot-interval", "0"}, off...), storage("worker")...)...)

	// Idle: what a waiting worker costs per second.
	mon.mark(t)
	idleStart := time.Now()
	time.Sleep(2 * time.Second) // a measuring window, not a wait for a condition
	idle := mon.mark(t)
	idleSecs := time.Since(idleStart).Seconds()
	t.Logf("idle worker: %s per second", idle.scaled(1/idleSecs))

	// Edge: the worker is frozen, so only the edge works.
	if err := syscall.Kill(worker.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resetAll(proxies)
	mon.mark(t)
	c := dialSMTP(t, edge.addr("smtp"))
	for i := range costMessages {
		subject := fmt.Sprintf("cost %03d", i)
		if err := send(c, "load@remote.example", []string{user}, message("load@remote.example", user, subject, "body of "+subject)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	edgeCmds := mon.mark(t)
	edgeReqs := proxies["edge"].take()
	t.Logf("edge, per message: S3 %s; Redis %s", edgeReqs.per(costMessages), edgeCmds.scaled(1.0/costMessages))

	// Worker: thawed, it delivers the backlog.
	start := time.Now()
	if err := syscall.Kill(worker.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "backlog delivered", func() (bool, string) {
		qs, err := probe.QueueStats(context.Background(), store.QueueInbound)
		if err != nil {
			return false, err.Error()
		}
		mb, err := probe.Mailbox(context.Background(), u.ID, store.Inbox)
		return err == nil && qs.Pending+qs.InFlight+qs.Delayed == 0 && mb.Messages == costMessages, fmt.Sprintf("%+v, %+v, %v", qs, mb, err)
	})
	// Stopped, the worker writes the texts it holds to the search index.
	worker.stop(t)
	workerCmds := mon.mark(t)
	workerReqs := proxies["worker"].take()
	t.Logf("worker, per message (%s for %d, idle polling included, search segments written at the stop included): S3 %s; Redis %s",
		time.Since(start).Round(time.Millisecond), costMessages, workerReqs.per(costMessages), workerCmds.scaled(1.0/costMessages))
	segmentReqs := counts{}
	for k, n := range workerReqs {
		if strings.HasPrefix(k, "fts-") {
			segmentReqs[k] = n
			delete(workerReqs, k)
		}
	}

	// Gateway: log in, then list the mailbox as a client syncing it does.
	imc := dialIMAP(t, gw.addr("imap"), user, scalePassword(user), nil)
	resetAll(proxies)
	mon.mark(t)
	if _, err := imc.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	items := &imap.FetchOptions{UID: true, Flags: true, Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		RFC822Size: true, InternalDate: true}
	listed, err := imc.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, items).Collect()
	if err != nil || len(listed) != costMessages {
		t.Fatalf("FETCH 1:*: %d messages, %v", len(listed), err)
	}
	listCmds := mon.mark(t)
	listReqs := proxies["gateway"].take()
	t.Logf("listing %d messages (SELECT + FETCH 1:* UID FLAGS ENVELOPE BODYSTRUCTURE RFC822.SIZE INTERNALDATE): S3 %s; Redis %s",
		costMessages, listReqs.per(1), listCmds.scaled(1))

	section := &imap.FetchItemBodySection{Peek: true}
	for range 2 {
		if _, err := imc.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect(); err != nil {
			t.Fatal(err)
		}
	}
	bodyReqs := proxies["gateway"].take()
	t.Logf("two FETCH 1 BODY.PEEK[] of the same message: S3 %s", bodyReqs.per(1))

	// SEARCH BODY from the segments: the first search reads them, the
	// next ones only list them (once a second at most); no message is read.
	var searchReqs []counts
	for i, word := range []string{"cost 007", "body of", "cost 1"} {
		data, err := imc.UIDSearch(&imap.SearchCriteria{Body: []string{word}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]int{0: 1, 1: costMessages, 2: 100}[i]
		if got := len(data.AllUIDs()); got != want {
			t.Errorf("SEARCH BODY %q: %d messages, want %d", word, got, want)
		}
		searchReqs = append(searchReqs, proxies["gateway"].take())
		t.Logf("SEARCH BODY %q: S3 %s", word, searchReqs[i].per(1))
	}

	for _, check := range []struct {
		what      string
		got, want map[string]int
	}{
		{"edge object requests", edgeReqs, map[string]int{"PUT": costMessages}},
		{"worker object requests", workerReqs, map[string]int{"GET": costMessages}},
		{"listing object requests", listReqs, map[string]int{}},
		{"first search's object requests", searchReqs[0], map[string]int{"fts-LIST": 1, "fts-GET": segmentReqs["fts-PUT"] - segmentReqs["fts-DELETE"]}},
	} {
		if !maps.Equal(check.got, check.want) {
			t.Errorf("%s: %v, want %v", check.what, check.got, check.want)
		}
	}

	t.Logf("worker's search segment requests: %s", segmentReqs.per(1))
	measureBackground(t, env, rds.URL(), bucket, s3srv.Endpoint, mon)
}

// measureBackground runs a worker whose reconciler and snapshotter pass
// every second over the mailbox above, and reports their requests: the
// first passes (everything new) and then the idle passes.
func measureBackground(t *testing.T, env []string, redisURL, bucket, endpoint string, mon *redisMonitor) {
	p := newS3Counter(t, endpoint)
	mon.mark(t)
	w := startServerEnv(t, t, env, t.TempDir(), "worker", "--http-addr", "", "--reconcile-interval", "1s", "--reconcile-grace", "1s",
		"--snapshot-interval", "1s", "--store", redisURL, "--blobs", p.url(bucket))
	passes := func(n int) {
		eventually(t, 30*time.Second, fmt.Sprintf("%d reconcile and snapshot passes", n), func() (bool, string) {
			s, r := w.logCount(`"msg":"snapshot pass"`), w.logCount(`"msg":"reconcile pass"`)
			return s >= n && r >= n, fmt.Sprintf("%d snapshot, %d reconcile passes", s, r)
		})
	}
	passes(2)
	first := p.take()
	firstCmds := mon.mark(t)
	t.Logf("start-up and first two reconcile+snapshot passes over %d new objects: S3 %s; Redis %s",
		costMessages, first.per(1), firstCmds.scaled(1))
	passes(6)
	idle := p.take()
	idleCmds := mon.mark(t)
	t.Logf("four more passes, nothing new: S3 %s; Redis %s", idle.per(1), idleCmds.scaled(1))
}

// s3Counter is a reverse proxy in front of the S3 server that counts the
// requests through it by kind.
type s3Counter struct {
	srv *httptest.Server
	mu  sync.Mutex
	n   map[string]int
}

func newS3Counter(t *testing.T, endpoint string) *s3Counter {
	target := &url.URL{Scheme: "http", Host: endpoint}
	proxy := httputil.NewSingleHostReverseProxy(target)
	c := &s3Counter{n: map[string]int{}}
	// The Host header is left as the client sent it: it is signed (SigV4).
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.n[s3Kind(r)]++
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// url is the s3:// URL of bucket through the proxy.
func (c *s3Counter) url(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + strings.TrimPrefix(c.srv.URL, "http://") + "&region=us-east-1&secure=false&path_style=true"
}

// take returns the counts since the last take and resets them.
func (c *s3Counter) take() counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func resetAll(cs map[string]*s3Counter) {
	for _, c := range cs {
		c.take()
	}
}

// s3Kind names the S3 operation of a path-style request.
func s3Kind(r *http.Request) string {
	q := r.URL.Query()
	bucketOnly := !strings.Contains(strings.Trim(r.URL.Path, "/"), "/")
	_, key, _ := strings.Cut(strings.Trim(r.URL.Path, "/"), "/")
	if strings.HasPrefix(key, "fts/") || (bucketOnly && strings.HasPrefix(q.Get("prefix"), "fts/")) {
		// The search index's segments (internal/search), apart.
		return "fts-" + s3Op(r, q, bucketOnly)
	}
	return s3Op(r, q, bucketOnly)
}

func s3Op(r *http.Request, q url.Values, bucketOnly bool) string {
	switch {
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return "COPY"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "PUT-part"
	case r.Method == http.MethodGet && bucketOnly && q.Has("location"):
		return "GET-location"
	case r.Method == http.MethodGet && bucketOnly:
		return "LIST"
	case bucketOnly:
		return r.Method + "-bucket"
	}
	return r.Method
}

// counts is a number per operation or command name.
type counts map[string]int

// per formats c divided by n, e.g. "GET=1 PUT=0.5", sorted by name.
func (c counts) per(n int) string { return c.scaled(1 / float64(n)) }

func (c counts) scaled(f float64) string {
	if len(c) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s=%.3g", k, float64(c[k])*f))
	}
	return strings.Join(parts, " ")
}

// redisMonitor follows MONITOR and counts the commands of everyone but the
// test's own probe connections: top-level commands by name, and the
// commands scripts run apart, as "lua:NAME" (MONITOR shows EVALSHA first,
// then its script's commands with source "lua").
type redisMonitor struct {
	addr       string
	markClient *goredis.Client // its ECHOs delimit the phases
	seq        int

	mu      sync.Mutex
	exclude map[string]bool // local addresses of the probe's connections
	last    string          // source of the last top-level command
	n       counts
	marks   chan string
}

func startMonitor(t *testing.T, addr string) *redisMonitor {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("MONITOR: %q, %v", line, err)
	}
	m := &redisMonitor{addr: addr, exclude: map[string]bool{}, n: counts{}, marks: make(chan string, 16)}
	m.markClient = goredis.NewClient(m.options())
	t.Cleanup(func() { m.markClient.Close() })
	go m.read(r)
	return m
}

// options are those of a client whose connections MONITOR leaves out.
func (m *redisMonitor) options() *goredis.Options {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &goredis.Options{
		Addr: m.addr,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				m.mu.Lock()
				m.exclude[conn.LocalAddr().String()] = true
				m.mu.Unlock()
			}
			return conn, err
		},
	}
}

func (m *redisMonitor) read(r *bufio.Reader) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		m.count(strings.TrimRight(line, "\r\n"))
	}
}

// count reads one line: +1700000000.123456 [0 127.0.0.1:46010] "eval" "..."
func (m *redisMonitor) count(line string) {
	open, close := strings.IndexByte(line, '['), strings.IndexByte(line, ']')
	if open < 0 || close < open {
		return
	}
	_, src, _ := strings.Cut(line[open+1:close], " ")
	fields := strings.SplitN(line[close+1:], `"`, 5)
	if len(fields) < 3 {
		return
	}
	cmd := strings.ToLower(fields[1])
	if cmd == "echo" && len(fields) >= 4 && strings.HasPrefix(fields[3], "costs-mark-") {
		m.marks <- fields[3]
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if src != "lua" {
		m.last = src
	} else {
		cmd = "lua:" + cmd
	}
	if !m.exclude[m.last] {
		m.n[cmd]++
	}
}

// probe returns a store whose Redis connections MONITOR leaves out, so the
// test can poll without changing the figures.
func (m *redisMonitor) probe(t *testing.T) *redis.DB {
	db := redis.New(goredis.NewClient(m.options()))
	t.Cleanup(func() { db.Close() })
	return db
}

// mark waits until MONITOR has shown every command executed so far, and
// returns the counts since the last mark.
func (m *redisMonitor) mark(t *testing.T) counts {
	t.Helper()
	m.seq++
	want := fmt.Sprintf("costs-mark-%d", m.seq)
	if err := m.markClient.Echo(context.Background(), want).Err(); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case got := <-m.marks:
			if got != want {
				continue
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			n := m.n
			m.n = counts{}
			return n
		case <-time.After(10 * time.Second):
			t.Fatalf("MONITOR did not show %s", want)
		}
	}
}
