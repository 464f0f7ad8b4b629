package outbound

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"
	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/resolver"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
	"github.com/bucketmail/bucketmail/worker"
)

// zone is a DNS server on loopback answering from a map of records.
type zone struct {
	mu   sync.Mutex
	rrs  map[string][]dns.RR // by lower-case FQDN
	addr string
}

func newZone(t *testing.T) *zone {
	t.Helper()
	z := &zone{rrs: map[string][]dns.RR{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z.addr = pc.LocalAddr().String()
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(z.serve)}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return z
}

// add adds records in zone-file syntax, e.g. "a.test. 60 IN MX 10 mx.a.test.".
func (z *zone) add(t *testing.T, records ...string) {
	t.Helper()
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		z.rrs[name] = append(z.rrs[name], rr)
	}
}

// txt publishes a TXT value, split in strings of 255 bytes.
func (z *zone) txt(name, value string) {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, value[:255])
		value = value[255:]
	}
	parts = append(parts, value)
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: parts}
	z.mu.Lock()
	defer z.mu.Unlock()
	z.rrs[strings.ToLower(dns.Fqdn(name))] = append(z.rrs[strings.ToLower(dns.Fqdn(name))], rr)
}

func (z *zone) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) == 1 {
		q := r.Question[0]
		z.mu.Lock()
		rrs, known := z.rrs[strings.ToLower(q.Name)]
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		z.mu.Unlock()
		if !known {
			m.Rcode = dns.RcodeNameError
		}
	}
	w.WriteMsg(m)
}

// received is one message the remote server took.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	UTF8 bool
	User string
}

// remote is a receiving SMTP server on loopback (go-smtp), with STARTTLS.
type remote struct {
	mu   sync.Mutex
	msgs []received
	// rcpt, when set, may refuse a recipient; calls counts RCPTs per address.
	rcpt  func(to string, calls int) error
	calls map[string]int
	port  string
	srv   *smtp.Server
	user  string // AUTH PLAIN credentials, when set
	pass  string
}

func newRemote(t *testing.T, utf8, starttls bool, opts ...func(*smtp.Server)) *remote {
	t.Helper()
	rm := &remote{calls: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &remoteSession{rm: rm, conn: c}, nil
	}))
	srv.Domain = "mx.remote.test"
	if starttls {
		srv.TLSConfig = testenv.NewCert(t, "mx.remote.test").Server
	}
	srv.EnableSMTPUTF8 = utf8
	srv.AllowInsecureAuth = false
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	for _, o := range opts {
		o(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, rm.port, _ = net.SplitHostPort(ln.Addr().String())
	rm.srv = srv
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rm
}

func (rm *remote) messages() []received {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return append([]received(nil), rm.msgs...)
}

type remoteSession struct {
	rm   *remote
	conn *smtp.Conn
	cur  received
	user string
}

func (s *remoteSession) AuthMechanisms() []string {
	if s.rm.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *remoteSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.rm.user || password != s.rm.pass {
			return errors.New("bad credentials")
		}
		s.user = username
		return nil
	}), nil
}

func (s *remoteSession) Mail(from string, opts *smtp.MailOptions) error {
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = received{From: from, TLS: isTLS, UTF8: opts != nil && opts.UTF8, User: s.user}
	return nil
}

func (s *remoteSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rm.mu.Lock()
	s.rm.calls[to]++
	n, hook := s.rm.calls[to], s.rm.rcpt
	s.rm.mu.Unlock()
	if hook != nil {
		if err := hook(to, n); err != nil {
			return err
		}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *remoteSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.rm.mu.Lock()
	s.rm.msgs = append(s.rm.msgs, s.cur)
	s.rm.mu.Unlock()
	return nil
}

func (s *remoteSession) Reset()        { s.cur = received{} }
func (s *remoteSession) Logout() error { return nil }

// env is a store, a blob store, the local domain local.test with users
// alice and carol, a DNS zone and a remote server.
type env struct {
	t      *testing.T
	st     store.Store
	blobs  blob.Store
	zone   *zone
	remote *remote
	users  map[string]store.User
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, testenv.Embedded(t))
}

// newEnvWith is newEnv over the storage st.
func newEnvWith(t *testing.T, st *testenv.Env) *env {
	t.Helper()
	e := &env{t: t, st: st.Store, blobs: st.Blobs, zone: newZone(t), remote: newRemote(t, true, true), users: map[string]store.User{}}
	for _, name := range []string{"alice", "carol"} {
		e.users[name] = st.User(name + "@local.test")
	}
	e.zone.add(t,
		"remote.test. 60 IN MX 10 mx.remote.test.",
		"mx.remote.test. 60 IN A 127.0.0.1",
	)
	return e
}

// config is a Config for tests: fast retries, the test resolver and the
// remote's port.
func (e *env) config() Config {
	return Config{
		Store: e.st, Blobs: e.blobs, Hostname: "out.local.test",
		Resolver:    resolver.New(e.zone.addr),
		Port:        e.remote.port,
		Lifetime:    time.Hour,
		DelayNotice: -1,
		RetryBase:   20 * time.Millisecond,
		RetryMax:    50 * time.Millisecond,
		Concurrency: 2,
		Lease:       10 * time.Second,
		Log:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// run runs a Sender with cfg and a local delivery worker until the test ends.
func (e *env) run(cfg Config) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s := New(cfg)
	w := worker.New(worker.Config{Store: e.st, Blobs: e.blobs, Hostname: "local.test", Consumer: "w",
		Concurrency: 1, Lease: 10 * time.Second, Log: cfg.Log, RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	wg.Go(func() { s.Run(ctx) })
	wg.Go(func() { w.Run(ctx) })
	e.t.Cleanup(func() { cancel(); wg.Wait() })
}

// submit stores raw and enqueues an outbound job from alice, as the edge
// does for a submitted message.
func (e *env) submit(raw string, to ...string) store.Job {
	e.t.Helper()
	j := e.submitJob(raw, to...)
	if err := e.st.Enqueue(e.t.Context(), j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// submitJob stores raw and returns its outbound job from alice, not
// enqueued.
func (e *env) submitJob(raw string, to ...string) store.Job {
	e.t.Helper()
	id := ulid.Make().String()
	j := store.Job{ID: id, Queue: store.QueueOutbound, BlobKey: blob.MessageKey(id),
		From: "alice@local.test", To: to, ReceivedAt: time.Now().UTC(), Auth: "alice@local.test"}
	if _, err := e.blobs.Put(e.t.Context(), j.BlobKey, strings.NewReader(raw), store.JobMeta(j)); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inbox returns the raw messages (prefix + object) in user's INBOX.
func (e *env) inbox(user string) [][]byte {
	e.t.Helper()
	ctx := e.t.Context()
	u := e.users[user]
	mb, err := e.st.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		return nil
	}
	msgs, err := e.st.Messages(ctx, u.ID, mb.ID, 1, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		rc, err := e.blobs.Get(ctx, m.BlobKey, 0, -1)
		if err != nil {
			e.t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out = append(out, append(bytes.Clone(m.Prefix), b...))
	}
	return out
}

// queueIdle reports that the outbound queue holds nothing.
func (e *env) queueIdle() bool {
	s, err := e.st.QueueStats(e.t.Context(), store.QueueOutbound)
	return err == nil && s == (store.QueueStats{})
}
