package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

const (
	testPassword = testenv.Password
	testHostname = "mx.example.test"
	alice        = "alice@example.test"
	bob          = "bob@example.test"
)

// testEnv is an edge with every listener on 127.0.0.1, over the embedded
// storage (testenv.Embedded).
type testEnv struct {
	t      testing.TB
	db     *sqlite.DB
	blobs  blob.Store
	m      *metrics.Metrics
	logs   *testenv.Log
	srv    *Server
	addr   map[Mode]string
	client *tls.Config // trusts the server's certificate
	alice  store.User
}

// newEnv starts an edge; configure may wrap or change the Config first.
func newEnv(t testing.TB, configure func(*Config)) *testEnv {
	t.Helper()
	env := testenv.Embedded(t)
	e := &testEnv{t: t, db: env.SQLite, blobs: env.Blobs, m: metrics.New(), logs: &testenv.Log{}, addr: map[Mode]string{}}
	e.seed(env)
	cert := testenv.NewCert(t, testHostname)
	e.client = cert.Client(testHostname)
	cfg := Config{
		Hostname: testHostname, TLS: cert.Server,
		Dir: e.db, Queue: e.db, Blobs: e.blobs, Auth: auth.New(e.db, auth.Options{}),
		Log: e.logs.Logger(), Metrics: e.m,
	}
	if configure != nil {
		configure(&cfg)
	}
	e.srv = New(cfg)
	var wg sync.WaitGroup
	for _, mode := range []Mode{MX, Submission, SubmissionTLS} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		e.addr[mode] = ln.Addr().String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A short test may Close before this goroutine got to Serve,
			// which then refuses with ErrServerClosed (TestServeAfterClose).
			if err := e.srv.Serve(ln, mode); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
				t.Errorf("Serve(%v) = %v after Close, want nil", mode, err)
			}
		}()
	}
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		wg.Wait()
		if e.logs.Contains("panic") {
			t.Errorf("the server logged a panic:\n%s", e.logs.String())
		}
	})
	return e
}

// seed makes the domain example.test with users alice and bob (password
// testPassword) and an alias team@ → alice.
func (e *testEnv) seed(env *testenv.Env) {
	e.alice = env.User(alice)
	env.User(bob)
	if err := e.db.AddAlias(context.Background(), "team@example.test", []string{alice}); err != nil {
		e.t.Fatal(err)
	}
}

// dial connects to mode's listener and says EHLO; with startTLS it then
// upgrades the connection.
func (e *testEnv) dial(mode Mode, startTLS bool) *smtp.Client {
	e.t.Helper()
	return e.dialAs(e.t, mode, startTLS)
}

// dialAs is dial reporting to t (a fuzz target's t is not the env's).
func (e *testEnv) dialAs(t testing.TB, mode Mode, startTLS bool) *smtp.Client {
	t.Helper()
	var c *smtp.Client
	var err error
	switch {
	case mode == SubmissionTLS:
		c, err = smtp.DialTLS(e.addr[mode], e.client)
	case startTLS:
		c, err = smtp.DialStartTLS(e.addr[mode], e.client)
	default:
		c, err = smtp.Dial(e.addr[mode])
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.example.net"); err != nil {
		t.Fatal(err)
	}
	return c
}

// send runs MAIL, RCPT and DATA and returns the queue id from the reply.
func send(c *smtp.Client, from string, to []string, msg string) (string, error) {
	if err := c.Mail(from, nil); err != nil {
		return "", err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return "", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	// The client keeps the enhanced status code in the text.
	id, ok := strings.CutPrefix(resp.StatusText, "2.0.0 OK queued as ")
	if !ok {
		return "", errors.New("unexpected reply " + resp.StatusText)
	}
	return id, nil
}

// wantReply fails unless err is the SMTP reply code with enhanced code ec.
func wantReply(t testing.TB, err error, code int, ec smtp.EnhancedCode) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("got error %v, want SMTP reply %d %v", err, code, ec)
	}
	if se.Code != code || se.EnhancedCode != ec {
		t.Fatalf("got reply %d %v %q, want %d %v", se.Code, se.EnhancedCode, se.Message, code, ec)
	}
}

// object returns the bytes and metadata of the object of queue id id.
func (e *testEnv) object(id string) ([]byte, map[string]string) {
	e.t.Helper()
	ctx := context.Background()
	rc, err := e.blobs.Get(ctx, blob.MessageKey(id), 0, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := e.blobs.Stat(ctx, blob.MessageKey(id))
	if err != nil {
		e.t.Fatal(err)
	}
	return b, info.Meta
}

// objects lists every message object.
func (e *testEnv) objects() []blob.Info {
	e.t.Helper()
	infos, err := e.blobs.List(context.Background(), "msg/", "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return infos
}

// jobs claims every ready job of queue.
func (e *testEnv) jobs(queue string) []store.Job {
	e.t.Helper()
	jobs, err := e.db.Claim(context.Background(), queue, "test", 1000, 0, time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return jobs
}

// counter reads one counter or gauge of vec.
func counter(t testing.TB, c prometheus.Collector, labels ...string) float64 {
	t.Helper()
	var metric prometheus.Metric
	switch v := c.(type) {
	case *prometheus.CounterVec:
		metric = v.WithLabelValues(labels...)
	case *prometheus.GaugeVec:
		metric = v.WithLabelValues(labels...)
	default:
		t.Fatalf("unsupported collector %T", c)
	}
	var m dto.Metric
	if err := metric.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newLocalListener(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
