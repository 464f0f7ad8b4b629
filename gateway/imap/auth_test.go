package imapgw

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// transcript drives a raw IMAP conversation line by line.
type transcript struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func newTranscript(t *testing.T, conn net.Conn) *transcript {
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &transcript{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (tr *transcript) send(line string) {
	tr.t.Helper()
	if _, err := tr.conn.Write([]byte(line + "\r\n")); err != nil {
		tr.t.Fatal(err)
	}
}

// expect reads lines until one starts with prefix and returns it.
func (tr *transcript) expect(prefix string) string {
	tr.t.Helper()
	for {
		line, err := tr.r.ReadString('\n')
		if err != nil {
			tr.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

func TestLoginDisabledUntilStartTLS(t *testing.T) {
	env := newEnv(t)
	conn, err := net.Dial("tcp", env.plainAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tr := newTranscript(t, conn)

	greeting := tr.expect("* OK")
	for _, want := range []string{"STARTTLS", "LOGINDISABLED"} {
		if !strings.Contains(greeting, want) {
			t.Errorf("greeting %q lacks %s", greeting, want)
		}
	}
	if strings.Contains(greeting, "AUTH=PLAIN") {
		t.Errorf("greeting %q offers AUTH=PLAIN before TLS", greeting)
	}
	tr.send("a1 LOGIN alice@example.org \"" + testPassword + "\"")
	if line := tr.expect("a1 "); !strings.HasPrefix(line, "a1 NO [PRIVACYREQUIRED]") {
		t.Errorf("LOGIN before TLS: %q", line)
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00" + testPassword))
	tr.send("a2 AUTHENTICATE PLAIN " + plain)
	if line := tr.expect("a2 "); !strings.HasPrefix(line, "a2 NO") {
		t.Errorf("AUTHENTICATE before TLS: %q", line)
	}

	tr.send("a3 STARTTLS")
	tr.expect("a3 OK")
	tlsConn := tls.Client(conn, clientTLS())
	tr = newTranscript(t, tlsConn)
	tr.send("a4 CAPABILITY")
	caps := tr.expect("* CAPABILITY")
	if strings.Contains(caps, "LOGINDISABLED") || !strings.Contains(caps, "AUTH=PLAIN") {
		t.Errorf("capabilities after STARTTLS: %q", caps)
	}
	tr.expect("a4 OK")
	tr.send("a5 LOGIN alice@example.org \"" + testPassword + "\"")
	if line := tr.expect("a5 "); !strings.HasPrefix(line, "a5 OK") {
		t.Fatalf("LOGIN after STARTTLS: %q", line)
	}
	tr.send("a6 CAPABILITY")
	caps = tr.expect("* CAPABILITY")
	for _, want := range []string{"IMAP4rev1", "IMAP4rev2", "IDLE", "NAMESPACE", "UIDPLUS", "MOVE",
		"SPECIAL-USE", "ESEARCH", "LITERAL+", "UNSELECT", "ENABLE", "STATUS=SIZE",
		"APPENDLIMIT", "CHILDREN", "LIST-STATUS"} {
		if !strings.Contains(caps, want) {
			t.Errorf("authenticated capabilities %q lack %s", caps, want)
		}
	}
}

func TestStartTLSClientAndAuthenticatePlain(t *testing.T) {
	env := newEnv(t)
	c, err := imapclient.DialStartTLS(env.plainAddr, &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("Alice@Example.org", testPassword).Wait(); err != nil {
		t.Fatalf("login after STARTTLS: %v", err)
	}
	if got := metricValue(t, env.metrics.Sessions.WithLabelValues("imap")); got != 1 {
		t.Errorf("sessions gauge = %v, want 1", got)
	}

	// AUTHENTICATE PLAIN over implicit TLS with an initial response.
	conn, err := tls.Dial("tcp", env.tlsAddr, clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tr := newTranscript(t, conn)
	tr.expect("* OK")
	plain := base64.StdEncoding.EncodeToString([]byte("\x00bob@example.org\x00" + testPassword))
	tr.send("b1 AUTHENTICATE PLAIN " + plain)
	if line := tr.expect("b1 "); !strings.HasPrefix(line, "b1 OK") {
		t.Fatalf("AUTHENTICATE PLAIN: %q", line)
	}
}

func TestLoginFailures(t *testing.T) {
	env := newEnv(t)
	c, err := imapclient.DialTLS(env.tlsAddr, &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cred := range [][2]string{{"alice@example.org", "wrong"}, {"nobody@example.org", testPassword}} {
		err := c.Login(cred[0], cred[1]).Wait()
		if code := imapCode(err); code != imap.ResponseCodeAuthenticationFailed {
			t.Errorf("login %s: %v, want NO [AUTHENTICATIONFAILED]", cred[0], err)
		}
	}
	if got := metricValue(t, env.metrics.AuthFailures.WithLabelValues("imap")); got != 2 {
		t.Errorf("auth failures = %v, want 2", got)
	}
}

func TestAllowInsecureAuth(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.AllowInsecureAuth = true })
	c, err := imapclient.DialInsecure(env.plainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice@example.org", testPassword).Wait(); err != nil {
		t.Fatalf("login without TLS when allowed: %v", err)
	}
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if g := out.GetGauge(); g != nil {
		return g.GetValue()
	}
	return out.GetCounter().GetValue()
}

// panickyStore panics when a login ensures the default mailboxes.
type panickyStore struct{ Store }

func (panickyStore) EnsureUser(context.Context, string) error { panic("index on fire") }

// TestLoginPanicEndsOnlyTheSession: Login runs on a goroutine of its own;
// a panic there must still reach the session's recovery (the connection
// closes) and not end the process.
func TestLoginPanicEndsOnlyTheSession(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.Store = panickyStore{c.Store} })
	for range 2 {
		conn, err := tlsDial(env.tlsAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tr := newTranscript(t, conn)
		tr.expect("* OK")
		tr.send(`a LOGIN alice@example.org "` + testPassword + `"`)
		if line, err := tr.r.ReadString('\n'); err == nil {
			t.Errorf("LOGIN with a panicking store answered %q; want the connection closed", line)
		}
	}
}
