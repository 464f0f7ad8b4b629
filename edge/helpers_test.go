package edge

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
)

const (
	testPassword = "correct horse battery"
	testHostname = "mx.example.test"
	alice        = "alice@example.test"
	bob          = "bob@example.test"
)

// testEnv is an edge with every listener on 127.0.0.1, over a real SQLite
// store and a real blob directory.
type testEnv struct {
	t      testing.TB
	db     *sqlite.DB
	blobs  *fs.Store
	m      *metrics.Metrics
	logs   *logBuffer
	srv    *Server
	addr   map[Mode]string
	client *tls.Config // trusts the server's certificate
	alice  store.User
}

// passwordHash is computed once: argon2id is slow on purpose.
var passwordHash = sync.OnceValues(func() (string, error) { return auth.HashPassword(testPassword) })

// newEnv starts an edge; configure may wrap or change the Config first.
func newEnv(t testing.TB, configure func(*Config)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "bucketmail.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, db: db, blobs: blobs, m: metrics.New(), logs: &logBuffer{}, addr: map[Mode]string{}}
	e.seed()
	serverTLS, clientTLS := testCertificates(t)
	e.client = clientTLS
	cfg := Config{
		Hostname: testHostname, TLS: serverTLS,
		Dir: db, Queue: db, Blobs: blobs, Auth: auth.New(db, auth.Options{}),
		Log: slog.New(slog.NewJSONHandler(e.logs, nil)), Metrics: e.m,
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
		if e.logs.contains("panic") {
			t.Errorf("the server logged a panic:\n%s", e.logs.String())
		}
	})
	return e
}

// seed makes the domain example.test with users alice and bob and an
// alias team@ → alice.
func (e *testEnv) seed() {
	ctx := context.Background()
	hash, err := passwordHash()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.AddDomain(ctx, "example.test"); err != nil {
		e.t.Fatal(err)
	}
	if e.alice, err = e.db.AddUser(ctx, alice, hash); err != nil {
		e.t.Fatal(err)
	}
	if _, err = e.db.AddUser(ctx, bob, hash); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.AddAlias(ctx, "team@example.test", []string{alice}); err != nil {
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

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) contains(s string) bool { return strings.Contains(l.String(), s) }

// records returns the decoded log records with message msg.
func (l *logBuffer) records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// testCertificates makes a self-signed certificate for testHostname and
// 127.0.0.1, and a client configuration that trusts it.
func testCertificates(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: testHostname},
		DNSNames:     []string{testHostname},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{RootCAs: pool, ServerName: testHostname, MinVersion: tls.VersionTLS12}
	return server, client
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
