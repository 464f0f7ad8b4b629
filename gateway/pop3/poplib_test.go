package pop3

import (
	"encoding/json"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// poplibScript drives the server with Python's poplib, an independent
// client: STLS, USER/PASS, STAT, LIST, UIDL, RETR, TOP, DELE, QUIT.
const poplibScript = `
import json, poplib, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
p = poplib.POP3("127.0.0.1", port, timeout=20)
out = {"welcome": p.getwelcome().decode()}
out["capa"] = sorted(p.capa())
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
p.stls(context=ctx)
out["capa_tls"] = sorted(p.capa())
p.user(user)
p.pass_(password)
out["stat"] = list(p.stat())
out["list"] = [l.decode() for l in p.list()[1]]
out["uidl"] = [l.decode() for l in p.uidl()[1]]
out["retr"] = [l.decode() for l in p.retr(1)[1]]
out["top"] = [l.decode() for l in p.top(2, 0)[1]]
p.dele(1)
out["quit"] = p.quit().decode()
print(json.dumps(out))
`

func TestPythonPoplib(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.deliver(store.Inbox, prefix1, body2)
	e.deliver(store.Inbox, "", body1)
	_, port, _ := net.SplitHostPort(e.addr)
	cmd := exec.Command("python3", "-c", poplibScript, port, testUser, testPassword)
	outb, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("python3 poplib: %v\n%s", err, stderr)
	}
	var out struct {
		Welcome, Quit string
		Capa          []string
		CapaTLS       []string `json:"capa_tls"`
		Stat          []int
		List, UIDL    []string
		Retr, Top     []string
	}
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("poplib output %q: %v", outb, err)
	}
	if out.Welcome != "+OK "+testHost+" POP3 ready" {
		t.Errorf("welcome = %q", out.Welcome)
	}
	if !slices.Contains(out.Capa, "STLS") || slices.Contains(out.Capa, "USER") {
		t.Errorf("capa = %q", out.Capa)
	}
	if !slices.Contains(out.CapaTLS, "USER") || slices.Contains(out.CapaTLS, "STLS") {
		t.Errorf("capa after STLS = %q", out.CapaTLS)
	}
	size1, size2 := len(prefix1+body2), len(body1)
	if !slices.Equal(out.Stat, []int{2, size1 + size2}) {
		t.Errorf("stat = %v", out.Stat)
	}
	if len(out.List) != 2 || len(out.UIDL) != 2 {
		t.Errorf("list = %q, uidl = %q", out.List, out.UIDL)
	}
	// poplib splits on CRLF and undoes the dot-stuffing.
	want := strings.Split(strings.TrimSuffix(prefix1+body2, "\r\n"), "\r\n")
	if !slices.Equal(out.Retr, want) {
		t.Errorf("retr = %q, want %q", out.Retr, want)
	}
	if want := []string{"Received: from x", "Subject: one", ""}; !slices.Equal(out.Top, want) {
		t.Errorf("top = %q, want %q", out.Top, want)
	}
	if !strings.HasPrefix(out.Quit, "+OK") {
		t.Errorf("quit = %q", out.Quit)
	}
	if msgs := e.inbox(); len(msgs) != 1 || msgs[0].Size != int64(size2) {
		t.Errorf("INBOX after poplib's QUIT = %+v", msgs)
	}
}
