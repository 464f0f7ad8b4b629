package imapgw

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/oklog/ulid/v2"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

const testPassword = testenv.Password

// testEnv is a gateway on 127.0.0.1 over the embedded storage
// (testenv.Embedded): plainAddr offers STARTTLS, tlsAddr is implicit TLS.
type testEnv struct {
	store     store.Store
	blobs     *testenv.CountingBlobs
	metrics   *metrics.Metrics
	backend   string // label of the blob driver in metrics
	cfg       Config
	srv       *Server
	plainAddr string
	tlsAddr   string
	users     map[string]store.User // by address
	noText    bool                  // deliver without search text (as before the index)
	dir       string                // holds index.db and blobs/
}

type envOption func(*Config)

// newEnv is a gateway of the embedded deployment: SQLite and files.
func newEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	st := testenv.Embedded(t)
	m := metrics.New()
	st.Blobs.(*fs.Store).CountReads(m.BlobReadBytes.WithLabelValues("fs"))
	return newEnvWith(t, st, st.Blobs, m, "fs", opts...)
}

// newCloudEnv is a gateway of the cloud deployment: a real redis-server
// and S3 server (versitygw).
func newCloudEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	st := testenv.Cloud(t)
	m := metrics.New()
	// The S3 store again, counting what it reads into m.
	bs, err := s3.Open(context.Background(), st.S3Server.URL(st.Bucket),
		s3.Options{AccessKey: st.S3Server.AccessKey, SecretKey: st.S3Server.SecretKey, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, st, bs, m, "s3", opts...)
}

// eachDeployment runs f as a subtest on a gateway of each deployment.
func eachDeployment(t *testing.T, f func(t *testing.T, env *testEnv), opts ...envOption) {
	t.Run("embedded", func(t *testing.T) { f(t, newEnv(t, opts...)) })
	t.Run("cloud", func(t *testing.T) { f(t, newCloudEnv(t, opts...)) })
}

// objectBytesRead is the blob driver's count of object bytes read.
func (env *testEnv) objectBytesRead(t testing.TB) int64 {
	t.Helper()
	var out dto.Metric
	if err := env.metrics.BlobReadBytes.WithLabelValues(env.backend).Write(&out); err != nil {
		t.Fatal(err)
	}
	return int64(out.GetCounter().GetValue())
}

// secondGateway starts another gateway on the same store and blobs, as
// another process of the cloud deployment would be, and returns its
// implicit-TLS address.
func (env *testEnv) secondGateway(t testing.TB) string {
	srv := New(env.cfg)
	t.Cleanup(func() { srv.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln, true)
	return ln.Addr().String()
}

func newEnvWith(t testing.TB, st *testenv.Env, bs blob.Store, m *metrics.Metrics, backend string, opts ...envOption) *testEnv {
	t.Helper()
	env := &testEnv{store: st.Store, blobs: &testenv.CountingBlobs{Store: bs}, metrics: m, backend: backend, users: map[string]store.User{}, dir: st.Dir}
	for _, addr := range []string{"alice@example.org", "bob@example.org"} {
		env.users[addr] = st.User(addr)
	}
	cfg := Config{
		Hostname: "localhost", TLS: testenv.NewCert(t, "localhost").Server, Store: st.Store, Blobs: env.blobs,
		Auth: auth.New(st.Store, auth.Options{}), Log: slog.New(slog.DiscardHandler), Metrics: env.metrics,
	}
	for _, o := range opts {
		o(&cfg)
	}
	env.cfg = cfg
	env.srv = New(cfg)
	env.plainAddr = env.listen(t, false)
	env.tlsAddr = env.listen(t, true)
	t.Cleanup(func() { env.srv.Close() })
	return env
}

func (env *testEnv) listen(t testing.TB, implicitTLS bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go env.srv.Serve(ln, implicitTLS)
	return ln.Addr().String()
}

// clientTLS trusts the test's self-signed certificate.
func clientTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// dial connects over implicit TLS and logs in as addr.
func (env *testEnv) dial(t testing.TB, addr string, handler *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(env.tlsAddr, &imapclient.Options{TLSConfig: clientTLS(), UnilateralDataHandler: handler})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(addr, testPassword).Wait(); err != nil {
		t.Fatalf("login %s: %v", addr, err)
	}
	return c
}

// deliver puts raw into the blob store and indexes it in mailbox of addr
// with the per-recipient prefix, as the worker does. It returns the UID.
func (env *testEnv) deliver(t testing.TB, addr, mailbox, prefix, raw string, flags ...string) uint32 {
	t.Helper()
	return env.deliverAt(t, addr, mailbox, prefix, raw, time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC), flags...)
}

// deliverAt is deliver with an internal date.
func (env *testEnv) deliverAt(t testing.TB, addr, mailbox, prefix, raw string, date time.Time, flags ...string) uint32 {
	t.Helper()
	uid, err := env.tryDeliver(addr, mailbox, prefix, raw, date, flags...)
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

// tryDeliver is deliverAt for goroutines other than the test's.
func (env *testEnv) tryDeliver(addr, mailbox, prefix, raw string, date time.Time, flags ...string) (uint32, error) {
	ctx := context.Background()
	u := env.users[addr]
	if err := env.store.EnsureUser(ctx, u.ID); err != nil {
		return 0, err
	}
	mb, err := env.store.Mailbox(ctx, u.ID, mailbox)
	if err != nil {
		return 0, err
	}
	key, sum, text, size, err := putMessage(ctx, env.blobs, ulid.Make().String(), strings.NewReader(raw), nil)
	if err != nil {
		return 0, err
	}
	st := searchText(text)
	st.Head = message.PrefixText([]byte(prefix)) + st.Head
	if env.noText {
		st = nil
	}
	uid, _, err := env.store.InsertMessage(ctx, u.ID, mb.ID, "", store.NewMessage{
		BlobKey: key, Prefix: []byte(prefix), Size: int64(len(prefix)) + size,
		InternalDate: date, Flags: flags, Summary: sum.Marshal(), Text: st,
	})
	return uid, err
}

// mustSelect selects mailbox and returns its data.
func mustSelect(t testing.TB, c *imapclient.Client, mailbox string, readOnly bool) *imap.SelectData {
	t.Helper()
	data, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", mailbox, err)
	}
	return data
}

// fetchOne fetches one message by UID.
func fetchOne(t testing.TB, c *imapclient.Client, uid imap.UID, options *imap.FetchOptions) *imapclient.FetchMessageBuffer {
	t.Helper()
	msgs, err := c.Fetch(imap.UIDSetNum(uid), options).Collect()
	if err != nil {
		t.Fatalf("fetch %d: %v", uid, err)
	}
	if len(msgs) != 1 {
		t.Fatalf("fetch %d: %d messages", uid, len(msgs))
	}
	return msgs[0]
}

// imapCode returns the response code of an IMAP error, or "".
func imapCode(err error) imap.ResponseCode {
	if e, ok := err.(*imap.Error); ok {
		return e.Code
	}
	return ""
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Messages used by the tests; CRLF line ends as on the wire.
func crlf(s string) string { return strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r\n") }

var (
	plainMsg = crlf(`
Received: from mx.example.net by localhost; Sun, 10 Mar 2024 12:00:00 +0000
From: Carol Sender <carol@example.net>
To: Alice <alice@example.org>
Cc: dave@example.com
Subject: Quarterly report
Date: Sat, 09 Mar 2024 10:30:00 +0100
Message-ID: <report-1@example.net>
Content-Type: text/plain; charset=utf-8

The numbers look good this quarter.
Regards, Carol
`)
	multipartMsg = crlf(`
From: Eve <eve@example.com>
To: alice@example.org
Subject: =?utf-8?q?Photos_=C3=A9t=C3=A9?=
Date: Mon, 01 Jan 2024 08:00:00 +0000
Message-ID: <photos@example.com>
In-Reply-To: <report-1@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XYZ"

preamble
--XYZ
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Here are the pictures from the beach=2E
--XYZ
Content-Type: image/png; name="a.png"
Content-Disposition: attachment; filename="a.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--XYZ--
`)
)

func tlsDial(addr string) (*tls.Conn, error) { return tls.Dial("tcp", addr, clientTLS()) }

func itoa(n int) string { return strconv.Itoa(n) }

func fmtAny(v any) string { return fmt.Sprintf("%+v", v) }
