package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os/exec"
	"sync"
	"testing"

	"github.com/bucketmail/bucketmail/internal/tlsconf"
)

// imaplibScript drives the engine with Python's imaplib, an independent
// client: STARTTLS, LOGIN with a password that needs escapes in a quoted
// string, APPEND with flags and a date (a synchronizing literal), SELECT,
// UID FETCH, an unknown command, NOOP and LOGOUT.
const imaplibScript = `
import imaplib, json, ssl, sys
port, password = int(sys.argv[1]), sys.argv[2]
m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
out = {}
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out["starttls"] = m.starttls(ssl_context=ctx)[0]
out["login"] = m.login("joe", password)[0]
out["append"] = m.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(1700000000), b"Subject: hi\r\n\r\nbody\r\n")[0]
out["select"] = [x.decode() for x in m.select("INBOX")[1]]
out["fetch"] = [x.decode() for x in m.uid("FETCH", "1:*", "(UID)")[1]]
try:
    m.xatom("XYZZY")
    out["xyzzy"] = "accepted"
except imaplib.IMAP4.error as e:
    out["xyzzy"] = "refused"
out["noop"] = m.noop()[0]
out["logout"] = m.logout()[0]
print(json.dumps(out))
`

func TestPythonImaplib(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	const password = `p"a\ss w`
	tlsCfg, err := tlsconf.Load("", "", t.TempDir(), "localhost", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var appended []string
	cfg := testConfig(&appended)
	cfg.TLS = tlsCfg
	cfg.Login = func(ctx context.Context, c *Conn, user, pass string) error {
		if user == "joe" && pass == password {
			return nil
		}
		return errors.New("bad password")
	}
	srv := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { srv.Serve(ctx, nc) })
		}
	})

	_, port, _ := net.SplitHostPort(ln.Addr().String())
	outb, err := exec.Command("python3", "-c", imaplibScript, port, password).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("python3 imaplib: %v\n%s", err, stderr)
	}
	var out struct {
		StartTLS, Login, Append, Xyzzy, Noop, Logout string
		Select, Fetch                                []string
	}
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("imaplib output %q: %v", outb, err)
	}
	if out.StartTLS != "OK" || out.Login != "OK" || out.Append != "OK" || out.Noop != "OK" || out.Logout != "BYE" {
		t.Errorf("imaplib: %+v", out)
	}
	if len(appended) != 1 || appended[0] != "Subject: hi\r\n\r\nbody\r\n" {
		t.Errorf("appended %q", appended)
	}
	if len(out.Select) != 1 || out.Select[0] != "1" {
		t.Errorf("SELECT: %q", out.Select)
	}
	if len(out.Fetch) != 1 || out.Fetch[0] != "1 (UID 1)" {
		t.Errorf("UID FETCH: %q", out.Fetch)
	}
	if out.Xyzzy != "refused" {
		t.Errorf("unknown command: %s", out.Xyzzy)
	}
}
