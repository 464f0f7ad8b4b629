package testenv_test

import (
	"crypto/tls"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// TestEach: both subtests run, each over the drivers its name says, and
// a user made by User logs in with Password in either.
func TestEach(t *testing.T) {
	var ran []string
	testenv.Each(t, func(t *testing.T, e *testenv.Env) {
		ran = append(ran, e.Name)
		if !strings.HasSuffix(t.Name(), "/"+e.Name) {
			t.Errorf("subtest %s runs over %s", t.Name(), e.Name)
		}
		switch e.Name {
		case "embedded":
			_, isSQLite := e.Store.(*sqlite.DB)
			_, isFS := e.Blobs.(*fs.Store)
			if !isSQLite || !isFS || e.SQLite == nil || e.Redis != nil || e.S3Server != nil {
				t.Errorf("embedded: %T, %T, %+v", e.Store, e.Blobs, e)
			}
		case "cloud":
			_, isRedis := e.Store.(*redis.DB)
			_, isS3 := e.Blobs.(*s3.Store)
			if !isRedis || !isS3 || e.SQLite != nil || e.RedisServer.PID() == 0 || e.S3Server.PID() == 0 || e.Bucket == "" {
				t.Errorf("cloud: %T, %T, %+v", e.Store, e.Blobs, e)
			}
		}
		ctx := t.Context()
		u := e.User("alice@example.org")
		e.User("bob@example.org") // the domain is there already
		a := auth.New(e.Store, auth.Options{})
		if got, err := a.Login(ctx, "alice@example.org", testenv.Password); err != nil || got.ID != u.ID {
			t.Errorf("Login with Password = %+v, %v; want %s", got, err, u.ID)
		}
		if _, err := a.Login(ctx, "alice@example.org", "wrong"); err == nil {
			t.Error("Login with a wrong password succeeded")
		}
		if _, err := e.Blobs.Put(ctx, "msg/x", strings.NewReader("hello"), nil); err != nil {
			t.Errorf("Put: %v", err)
		}
	})
	if strings.Join(ran, ",") != "embedded,cloud" {
		t.Errorf("Each ran %v", ran)
	}
}

// TestOpenDataDir: a second handle on an embedded data directory sees
// what the first wrote, as another process would.
func TestOpenDataDir(t *testing.T) {
	e := testenv.Embedded(t)
	u := e.User("alice@example.org")
	if _, err := e.Blobs.Put(t.Context(), "msg/x", strings.NewReader("hello"), nil); err != nil {
		t.Fatal(err)
	}
	other := testenv.OpenDataDir(t, e.Dir)
	if got, err := other.Store.UserByAddress(t.Context(), "alice@example.org"); err != nil || got.ID != u.ID {
		t.Errorf("UserByAddress through the second handle = %+v, %v", got, err)
	}
	rc, err := other.Blobs.Get(t.Context(), "msg/x", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "hello" {
		t.Errorf("object through the second handle = %q", b)
	}
	if _, err := testenv.OpenSQLite(t, filepath.Join(e.Dir, "other.db")).UserByAddress(t.Context(), "alice@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a new SQLite file knows alice: %v", err)
	}
}

// TestCert: a client of Cert.Client completes a handshake with a server of
// Cert.Server under the host name and localhost; a client that does not
// trust the certificate fails.
func TestCert(t *testing.T) {
	c := testenv.NewCert(t, "mx.example.test")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", c.Server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	dial := func(cfg *tls.Config) error {
		conn, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err == nil {
			conn.Close()
		}
		return err
	}
	for _, name := range []string{"mx.example.test", "localhost"} {
		if err := dial(c.Client(name)); err != nil {
			t.Errorf("handshake as %s: %v", name, err)
		}
	}
	if err := dial(testenv.NewCert(t, "mx.example.test").Client("mx.example.test")); err == nil {
		t.Error("a client trusting another certificate completed the handshake")
	}
}

// TestLog: Records finds the records of a message, Contains any text.
func TestLog(t *testing.T) {
	var l testenv.Log
	if recs := l.Records(t, "x"); len(recs) != 0 {
		t.Errorf("records of an empty log: %v", recs)
	}
	log := l.Logger()
	log.Info("smtp transaction", "result", "queued")
	log.Warn("other")
	log.Info("smtp transaction", "result", "refused")
	recs := l.Records(t, "smtp transaction")
	if len(recs) != 2 || recs[0]["result"] != "queued" || recs[1]["result"] != "refused" {
		t.Errorf("records = %v", recs)
	}
	if !l.Contains(`"level":"WARN"`) || l.Contains("nothing like it") {
		t.Errorf("Contains is wrong on %s", l.String())
	}
}
