package managesieve

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// startServer runs a server over the embedded storage with the user
// a@example.org (password "secret-pw") and returns its address and the
// client's TLS roots.
func startServer(t *testing.T, insecure bool) (string, *x509.CertPool, *sievestore.Scripts, string) {
	t.Helper()
	st := testenv.Embedded(t)
	u := st.UserWithHash("a@example.org", testenv.Hash(t, "secret-pw"))
	cert := testenv.NewCert(t, "localhost")
	scripts := &sievestore.Scripts{Blobs: st.Blobs, Store: st.Store}
	srv := New(Config{Hostname: "ms.test", TLS: cert.Server, AllowInsecureAuth: insecure,
		Auth: auth.New(st.Store, auth.Options{}), Scripts: scripts, Log: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), cert.Roots, scripts, u.ID
}

// client speaks RFC 5804 over a raw connection.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, conn: c, r: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// response reads lines up to and including the one that starts with OK,
// NO or BYE, reading literals whole.
func (c *client) response() (lines []string, last string) {
	c.t.Helper()
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading: %v (so far %q)", err, lines)
		}
		l = strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(l, "{") && strings.HasSuffix(l, "}") {
			var n int
			fmt.Sscanf(l, "{%d}", &n)
			buf := make([]byte, n)
			if _, err := io.ReadFull(c.r, buf); err != nil {
				c.t.Fatal(err)
			}
			lines = append(lines, string(buf))
			continue
		}
		for _, p := range []string{"OK", "NO", "BYE"} {
			if l == p || strings.HasPrefix(l, p+" ") {
				return lines, l
			}
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
}

// cmd sends a command and returns the final response line, after checking
// it starts with want.
func (c *client) cmd(line, want string) ([]string, string) {
	c.t.Helper()
	c.send(line + "\r\n")
	lines, last := c.response()
	if !strings.HasPrefix(last, want) {
		c.t.Fatalf("%q: got %q (lines %q), want %s", line, last, lines, want)
	}
	return lines, last
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// TestManageSieveSession drives a whole session: capabilities, STARTTLS,
// AUTHENTICATE PLAIN, every script command, and the errors RFC 5804 gives
// codes for.
func TestManageSieveSession(t *testing.T) {
	addr, roots, scripts, uid := startServer(t, false)
	c := dial(t, addr)
	caps, last := c.response()
	capText := strings.Join(caps, "\n")
	if !strings.HasPrefix(last, "OK") || !strings.Contains(capText, `"STARTTLS"`) ||
		!strings.Contains(capText, `"SIEVE" "fileinto`) || !strings.Contains(capText, "vacation") {
		t.Fatalf("greeting %q / %q", caps, last)
	}
	if strings.Contains(capText, `"SASL" "PLAIN"`) {
		t.Errorf("PLAIN offered before TLS: %q", caps)
	}
	c.cmd(`AUTHENTICATE "PLAIN" "`+plain("a@example.org", "secret-pw")+`"`, "NO (ENCRYPT-NEEDED)")
	c.cmd("LISTSCRIPTS", "NO")

	c.cmd("STARTTLS", "OK")
	tc := tls.Client(c.conn, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	caps, _ = c.response()
	if capText = strings.Join(caps, "\n"); !strings.Contains(capText, `"SASL" "PLAIN"`) || strings.Contains(capText, "STARTTLS") {
		t.Fatalf("capabilities after TLS: %q", caps)
	}
	c.cmd(`AUTHENTICATE "PLAIN" "`+plain("a@example.org", "wrong")+`"`, "NO")
	c.cmd(`AUTHENTICATE "PLAIN" "`+plain("a@example.org", "secret-pw")+`"`, "OK")

	script := "require \"fileinto\";\r\nif header :contains \"subject\" \"x\" { fileinto \"X\"; }\r\n"
	c.cmd(`HAVESPACE "main" 1000`, "OK")
	c.cmd(`HAVESPACE "main" 100000000`, "NO (QUOTA/MAXSIZE)")
	c.cmd(fmt.Sprintf("PUTSCRIPT \"main\" {%d+}\r\n%s", len(script), script), "OK")
	c.cmd(fmt.Sprintf("CHECKSCRIPT {%d+}\r\n%s", len("keep;"), "keep;"), "OK")
	_, last = c.cmd(fmt.Sprintf("PUTSCRIPT \"bad\" {%d}\r\n%s", len("keep;\r\n  frob;"), "keep;\r\n  frob;"), "NO")
	if !strings.Contains(last, "line 2 column 3") {
		t.Errorf("syntax error without its position: %q", last)
	}
	big := strings.Repeat("#", 64<<10+1)
	c.cmd(fmt.Sprintf("PUTSCRIPT \"big\" {%d+}\r\n%s", len(big), big), "NO (QUOTA/MAXSIZE)")
	c.cmd(`PUTSCRIPT "other" "discard;"`, "OK")
	c.cmd(`SETACTIVE "main"`, "OK")
	lines, _ := c.cmd("LISTSCRIPTS", "OK")
	if strings.Join(lines, "|") != `"main" ACTIVE|"other"` {
		t.Errorf("LISTSCRIPTS = %q", lines)
	}
	lines, _ = c.cmd(`GETSCRIPT "main"`, "OK")
	if len(lines) != 1 || lines[0] != script {
		t.Errorf("GETSCRIPT = %q", lines)
	}
	c.cmd(`GETSCRIPT "nope"`, "NO (NONEXISTENT)")
	c.cmd(`DELETESCRIPT "main"`, "NO (ACTIVE)")
	c.cmd(`RENAMESCRIPT "other" "main"`, "NO (ALREADYEXISTS)")
	c.cmd(`RENAMESCRIPT "main" "renamed"`, "OK")
	if src, _ := scripts.Active(t.Context(), uid); src != script {
		t.Errorf("active script after rename = %q", src)
	}
	c.cmd(`SETACTIVE ""`, "OK")
	c.cmd(`DELETESCRIPT "renamed"`, "OK")
	c.cmd(`NOOP`, "OK")
	// RFC 5804 section 2.11.2: the argument comes back as a TAG.
	if _, last := c.cmd(`NOOP "STARTTLS-RESYNC-CAPA"`, "OK"); last != `OK (TAG "STARTTLS-RESYNC-CAPA") "Done"` {
		t.Errorf("NOOP with a tag: %q", last)
	}
	c.cmd(`FROB`, "NO")
	c.cmd(`PUTSCRIPT "a" "b" "c" "d" "e"`, "NO")
	c.cmd("LOGOUT", "OK")
	if src, _ := scripts.Active(t.Context(), uid); src != "" {
		t.Errorf("still active: %q", src)
	}
}

// TestManageSieveChallenge: AUTHENTICATE without an initial response gets
// an empty challenge, and too many failures end the session.
func TestManageSieveChallenge(t *testing.T) {
	addr, _, _, _ := startServer(t, true)
	c := dial(t, addr)
	c.response()
	c.send(`AUTHENTICATE "PLAIN"` + "\r\n")
	if l, _ := c.r.ReadString('\n'); l != "\"\"\r\n" {
		t.Fatalf("challenge %q", l)
	}
	c.send(`"` + plain("a@example.org", "secret-pw") + `"` + "\r\n")
	if _, last := c.response(); !strings.HasPrefix(last, "OK") {
		t.Fatalf("login: %q", last)
	}

	c = dial(t, addr)
	c.response()
	for i := 0; i < 2; i++ {
		c.cmd(`AUTHENTICATE "PLAIN" "`+plain("a@example.org", "bad")+`"`, "NO")
	}
	c.send(`AUTHENTICATE "PLAIN" "` + plain("a@example.org", "bad") + `"` + "\r\n")
	if _, last := c.response(); !strings.HasPrefix(last, "NO") {
		t.Fatalf("third failure: %q", last)
	}
	if _, last := c.response(); !strings.HasPrefix(last, "BYE") {
		t.Fatalf("after three failures: %q, want BYE", last)
	}
}

// TestManageSieveLongLine: a line over the bound ends the session.
func TestManageSieveLongLine(t *testing.T) {
	addr, _, _, _ := startServer(t, true)
	c := dial(t, addr)
	c.response()
	c.send("NOOP " + strings.Repeat("x", maxLine+10) + "\r\n")
	if _, last := c.response(); !strings.HasPrefix(last, "BYE") {
		t.Fatalf("got %q, want BYE", last)
	}
}
