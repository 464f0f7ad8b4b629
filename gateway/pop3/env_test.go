package pop3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

const (
	testHost     = "mail.example.org"
	testUser     = "alice@example.org"
	testPassword = testenv.Password
)

// env is a running server over a real sqlite index and blob/fs store,
// with one user.
type env struct {
	t       testing.TB
	st      *testenv.Env
	db      *sqlite.DB
	blobs   *testenv.CountingBlobs
	user    store.User
	srv     *Server
	metrics *metrics.Metrics
	writes  atomic.Int64 // Write calls on server connections
	addr    string       // plain listener (STLS)
	tlsAddr string       // implicit TLS listener
	roots   *x509.CertPool
}

type envOptions struct {
	insecureAuth bool
	configure    func(*Config) // changes the Config last, if set
}

func newEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	st := testenv.Embedded(t)
	e := &env{t: t, st: st, db: st.SQLite, blobs: &testenv.CountingBlobs{Store: st.Blobs}, metrics: metrics.New()}
	e.user = e.addUser(testUser, testPassword)

	cert := testenv.NewCert(t, "localhost")
	e.roots = cert.Roots
	cfg := Config{
		Hostname:          testHost,
		TLS:               cert.Server,
		AllowInsecureAuth: opts.insecureAuth,
		Store:             e.db,
		Blobs:             e.blobs,
		Auth:              auth.New(e.db, auth.Options{}),
		Log:               slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:           e.metrics,
	}
	if opts.configure != nil {
		opts.configure(&cfg)
	}
	e.srv = New(cfg)
	e.addr = e.listen(false)
	e.tlsAddr = e.listen(true)
	t.Cleanup(func() { e.srv.Close() })
	return e
}

// addUser adds the user address (its domain too) with password and its
// mailboxes.
func (e *env) addUser(address, password string) store.User {
	e.t.Helper()
	u := e.st.UserWithHash(address, testenv.Hash(e.t, password))
	if err := e.db.EnsureUser(context.Background(), u.ID); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) listen(implicitTLS bool) string {
	e.t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ln := countingListener{inner, &e.writes}
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln, implicitTLS) }()
	e.t.Cleanup(func() {
		e.srv.Close()
		if err := <-done; err != nil {
			e.t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// countingListener counts the writes of the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// deliver stores body as a new object and files it in mailbox with prefix.
func (e *env) deliver(mailbox, prefix, body string) (uid uint32, key string) {
	e.t.Helper()
	key = blob.MessageKey(ulid.Make().String())
	if _, err := e.blobs.Put(context.Background(), key, strings.NewReader(body), nil); err != nil {
		e.t.Fatal(err)
	}
	return e.file(mailbox, key, prefix, int64(len(body))), key
}

// file adds an index entry for the existing object key.
func (e *env) file(mailbox, key, prefix string, objectSize int64) uint32 {
	e.t.Helper()
	ctx := context.Background()
	mb, err := e.db.Mailbox(ctx, e.user.ID, mailbox)
	if err != nil {
		e.t.Fatal(err)
	}
	uid, _, err := e.db.InsertMessage(ctx, e.user.ID, mb.ID, "", store.NewMessage{
		BlobKey:      key,
		Prefix:       []byte(prefix),
		Size:         int64(len(prefix)) + objectSize,
		InternalDate: time.Now(),
		Summary:      []byte("{}"),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return uid
}

// inbox returns the index entries of INBOX.
func (e *env) inbox() []store.Message {
	e.t.Helper()
	ctx := context.Background()
	mb, err := e.db.Mailbox(ctx, e.user.ID, store.Inbox)
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.db.Messages(ctx, e.user.ID, mb.ID, 1, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

func (e *env) blobExists(key string) bool {
	e.t.Helper()
	_, err := e.blobs.Stat(context.Background(), key)
	if err != nil && !strings.Contains(err.Error(), "not found") {
		e.t.Fatal(err)
	}
	return err == nil
}

func authFailures(t testing.TB, m *metrics.Metrics) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.AuthFailures.WithLabelValues(protocol).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

// waitNoSessions polls the Sessions gauge until it is back to 0.
func waitNoSessions(t testing.TB, m *metrics.Metrics) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d dto.Metric
		if err := m.Sessions.WithLabelValues(protocol).Write(&d); err != nil {
			t.Fatal(err)
		}
		if d.GetGauge().GetValue() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Sessions{protocol=pop3} = %v, want 0", d.GetGauge().GetValue())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is a POP3 test client on net/textproto.
type client struct {
	t    testing.TB
	conn net.Conn
	tp   *textproto.Conn
	e    *env
}

// dial connects to the plain listener and reads the greeting.
func (e *env) dial() *client {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.newClient(conn)
}

// dialTLS connects to the implicit TLS listener.
func (e *env) dialTLS() *client {
	e.t.Helper()
	conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{RootCAs: e.roots, ServerName: "localhost"})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.newClient(conn)
}

func (e *env) newClient(conn net.Conn) *client {
	e.t.Helper()
	c := &client{t: e.t, conn: conn, tp: textproto.NewConn(conn), e: e}
	e.t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	c.expectLine("+OK " + testHost + " POP3 ready")
	return c
}

// send writes one command line.
func (c *client) send(line string) {
	c.t.Helper()
	if err := c.tp.PrintfLine("%s", line); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) readLine() string {
	c.t.Helper()
	l, err := c.tp.ReadLine()
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	return l
}

func (c *client) expectLine(want string) {
	c.t.Helper()
	if got := c.readLine(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// cmd sends line and checks that the response starts with prefix.
func (c *client) cmd(line, prefix string) string {
	c.t.Helper()
	c.send(line)
	return c.expectPrefix(line, prefix)
}

func (c *client) expectPrefix(line, prefix string) string {
	c.t.Helper()
	got := c.readLine()
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("C: %s\nS: %s\nwant a response starting with %q", line, got, prefix)
	}
	return got
}

// lines reads the lines of a multi-line response, unstuffed.
func (c *client) lines() []string {
	c.t.Helper()
	ls, err := c.tp.ReadDotLines()
	if err != nil {
		c.t.Fatal(err)
	}
	return ls
}

// body reads a multi-line response byte for byte and undoes the
// dot-stuffing: what a client gets of the message.
func (c *client) body() []byte {
	c.t.Helper()
	var raw []byte
	for {
		l, err := c.tp.R.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading body: %v", err)
		}
		raw = append(raw, l...)
		if l == ".\r\n" {
			return unstuff(c.t, raw)
		}
	}
}

// capa returns the capabilities.
func (c *client) capa() []string {
	c.t.Helper()
	c.cmd("CAPA", "+OK")
	return c.lines()
}

// stls upgrades to TLS.
func (c *client) stls() {
	c.t.Helper()
	c.cmd("STLS", "+OK")
	tc := tls.Client(c.conn, &tls.Config{RootCAs: c.e.roots, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn = tc
	c.tp = textproto.NewConn(tc)
}

// login upgrades to TLS and logs in with USER/PASS.
func (c *client) login() {
	c.t.Helper()
	c.stls()
	c.cmd("USER "+testUser, "+OK")
	c.cmd("PASS "+testPassword, "+OK")
}

// quit sends QUIT and waits for the server to close.
func (c *client) quit(prefix string) string {
	c.t.Helper()
	resp := c.cmd("QUIT", prefix)
	if _, err := c.tp.R.ReadByte(); err != io.EOF {
		c.t.Fatalf("after QUIT: %v, want EOF", err)
	}
	return resp
}

func plain(authzid, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authzid + "\x00" + user + "\x00" + pass))
}

func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func hasNone(have []string, want ...string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return false
		}
	}
	return true
}
