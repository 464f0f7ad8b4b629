package e2e

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Outcomes of a login, the same for every protocol.
const (
	loginOK      = "ok"
	loginFailed  = "failed"  // the password was checked and is wrong
	loginBlocked = "blocked" // refused by the limits, nothing checked
)

// dialFrom connects to addr from the loopback address src: all of
// 127.0.0.0/8 is this machine, so a test can play many clients.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// smtpLoginFrom runs AUTH PLAIN on the submission port after STARTTLS.
func smtpLoginFrom(t *testing.T, w *world, src, user, pass string) string {
	c, err := smtp.NewClientStartTLS(dialFrom(t, src, w.srv.addr("submission")), clientTLS())
	if err != nil {
		t.Errorf("SMTP STARTTLS from %s: %v", src, err)
		return err.Error()
	}
	defer c.Close()
	err = c.Auth(sasl.NewPlainClient("", user, pass))
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return loginOK
	case errors.As(err, &se) && se.Code == 535:
		return loginFailed
	case errors.As(err, &se) && se.Code == 454:
		return loginBlocked
	}
	return "smtp: " + err.Error()
}

// imapLoginFrom runs LOGIN on the IMAP port after STARTTLS.
func imapLoginFrom(t *testing.T, w *world, src, user, pass string) string {
	c, err := imapclient.NewStartTLS(dialFrom(t, src, w.srv.addr("imap")), &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Errorf("IMAP STARTTLS from %s: %v", src, err)
		return err.Error()
	}
	defer c.Close()
	err = c.Login(user, pass).Wait()
	var ie *imap.Error
	switch {
	case err == nil:
		return loginOK
	case errors.As(err, &ie) && ie.Code == imap.ResponseCodeAuthenticationFailed:
		return loginFailed
	case errors.As(err, &ie) && ie.Code == imap.ResponseCodeUnavailable:
		return loginBlocked
	}
	return "imap: " + err.Error()
}

// poplibFromScript logs in with Python's poplib (STLS, USER, PASS) once
// per source address given, all at the same moment, and prints the
// answers to PASS in the order of the addresses, as JSON.
const poplibFromScript = `
import json, poplib, socket, ssl, sys, threading
port, user, password, sources = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
class POP3From(poplib.POP3):
    def __init__(self, src):
        self.src = src
        super().__init__("127.0.0.1", port, timeout=60)
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self.src, 0))
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conns = []
for src in sources:
    p = POP3From(src)
    p.stls(context=ctx)
    p.user(user)
    conns.append(p)
answers = [None] * len(conns)
start = threading.Barrier(len(conns))
def login(i):
    start.wait()
    try:
        answers[i] = conns[i].pass_(password).decode()
    except poplib.error_proto as e:
        answers[i] = e.args[0].decode()
threads = [threading.Thread(target=login, args=(i,)) for i in range(len(conns))]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(answers))
`

// pop3LoginsFrom logs in with poplib from each of sources at once.
func pop3LoginsFrom(t *testing.T, w *world, user, pass string, sources ...string) []string {
	t.Helper()
	_, port, _ := net.SplitHostPort(w.srv.addr("pop3"))
	args := append([]string{"-c", poplibFromScript, port, user, pass}, sources...)
	out, err := exec.Command("python3", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python3 poplib: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("python3 poplib: %v", err)
	}
	var answers []string
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		switch {
		case strings.HasPrefix(a, "+OK"):
			answers[i] = loginOK
		case strings.HasPrefix(a, "-ERR [AUTH] Authentication failed"):
			answers[i] = loginFailed
		case strings.HasPrefix(a, "-ERR [AUTH] Too many failed logins"):
			answers[i] = loginBlocked
		default:
			answers[i] = "pop3: " + a
		}
	}
	return answers
}

// guessAll makes one wrong login per source address, all at once, over
// SMTP, IMAP and POP3 in turn, and returns how many got each outcome.
func guessAll(t *testing.T, w *world, user string, sources []string) map[string]int {
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	var pop []string
	for i, src := range sources {
		if i%3 == 2 {
			pop = append(pop, src)
			continue
		}
		login := smtpLoginFrom
		if i%3 == 1 {
			login = imapLoginFrom
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := login(t, w, src, user, "wrong guess")
			mu.Lock()
			count[out]++
			mu.Unlock()
		}()
	}
	for _, out := range pop3LoginsFrom(t, w, user, "wrong guess", pop...) {
		mu.Lock()
		count[out]++
		mu.Unlock()
	}
	wg.Wait()
	return count
}

// TestLoginLimitsHold: with a limit of 10 failures, 55 simultaneous wrong
// guesses from one IP, and 100 from 100 IPs, over SMTP, IMAP and POP3 at
// once, get exactly 10 passwords checked: the counters are the store's,
// shared by every protocol. Afterwards the right password is refused too,
// in every spelling of the name and on every protocol.
func TestLoginLimitsHold(t *testing.T) {
	w := setupWorld(t, "--limit-auth-failures", "10")
	one := make([]string, 55)
	for i := range one {
		one[i] = "127.0.0.5"
	}
	if got := guessAll(t, w, alice, one); got[loginFailed] != 10 || got[loginBlocked] != 45 {
		t.Errorf("55 guesses from one IP: %v; want 10 checked, the rest blocked", got)
	}
	many := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprintf("127.0.1.%d", i+1)
	}
	if got := guessAll(t, w, bob, many); got[loginFailed] != 10 || got[loginBlocked] != 90 {
		t.Errorf("100 guesses from 100 IPs: %v; want 10 checked, the rest blocked", got)
	}
	// bob's account is at its limit: a stranger with his password, in any
	// spelling, gets nowhere.
	for i, name := range []string{bob, "  " + bob, strings.ToUpper(bob), bob + ".", " " + strings.ToUpper(bob) + ". "} {
		src := fmt.Sprintf("127.0.2.%d", i+1)
		for proto, login := range map[string]func(*testing.T, *world, string, string, string) string{
			"smtp": smtpLoginFrom, "imap": imapLoginFrom,
		} {
			if got := login(t, w, src, name, w.bobPass); got != loginBlocked {
				t.Errorf("%s login as %q with the right password: %s; want blocked", proto, name, got)
			}
		}
		if got := pop3LoginsFrom(t, w, name, w.bobPass, src); got[0] != loginBlocked {
			t.Errorf("pop3 login as %q with the right password: %s; want blocked", name, got[0])
		}
	}
	checkLogKeys(t, w)
}

// TestNoLockoutByStrangers: after 10 failures from strangers' IPs, the
// owner's network, known from an earlier login, still logs in on every
// protocol; an unknown IP with the right password is blocked.
func TestNoLockoutByStrangers(t *testing.T) {
	w := setupWorld(t, "--limit-auth-failures", "10")
	const owner, stranger = "127.0.0.2", "127.0.0.30"
	if got := imapLoginFrom(t, w, owner, alice, alicePass); got != loginOK {
		t.Fatalf("the owner's first login: %s", got)
	}
	attackers := make([]string, 10)
	for i := range attackers {
		attackers[i] = fmt.Sprintf("127.0.3.%d", i+1)
	}
	if got := guessAll(t, w, alice, attackers); got[loginFailed] != 10 {
		t.Fatalf("attackers' guesses: %v; want 10 checked", got)
	}
	for proto, login := range map[string]func(*testing.T, *world, string, string, string) string{
		"smtp": smtpLoginFrom, "imap": imapLoginFrom,
	} {
		if got := login(t, w, stranger, alice, alicePass); got != loginBlocked {
			t.Errorf("%s: an unknown IP with the right password: %s; want blocked", proto, got)
		}
		if got := login(t, w, owner, " "+alice, alicePass); got != loginOK {
			t.Errorf("%s: the owner's known IP locked out: %s", proto, got)
		}
	}
	if got := pop3LoginsFrom(t, w, alice, alicePass, stranger); got[0] != loginBlocked {
		t.Errorf("pop3: an unknown IP with the right password: %s; want blocked", got[0])
	}
	if got := pop3LoginsFrom(t, w, alice, alicePass, owner); got[0] != loginOK {
		t.Errorf("pop3: the owner's known IP locked out: %s", got[0])
	}
	checkLogKeys(t, w)
}

// proxyV2TCP6 is a PROXY protocol v2 header for a TCP6 connection from src.
func proxyV2TCP6(src, dst netip.AddrPort) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x21\x00\x24")
	s, d := src.Addr().As16(), dst.Addr().As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// imapLoginAs logs in over IMAP through the trusted balancer (127.0.0.1),
// whose PROXY header says the client is src.
func imapLoginAs(t *testing.T, w *world, src, user, pass string) string {
	t.Helper()
	conn := dialFrom(t, "127.0.0.1", w.srv.addr("imap"))
	hdr := proxyV2TCP6(netip.AddrPortFrom(netip.MustParseAddr(src), 40000), netip.MustParseAddrPort("[2001:db8::25]:143"))
	if _, err := conn.Write(hdr); err != nil {
		t.Fatal(err)
	}
	c, err := imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatalf("IMAP STARTTLS as %s: %v", src, err)
	}
	defer c.Close()
	err = c.Login(user, pass).Wait()
	var ie *imap.Error
	switch {
	case err == nil:
		return loginOK
	case errors.As(err, &ie) && ie.Code == imap.ResponseCodeAuthenticationFailed:
		return loginFailed
	case errors.As(err, &ie) && ie.Code == imap.ResponseCodeUnavailable:
		return loginBlocked
	}
	return "imap: " + err.Error()
}

// TestNoLockoutIPv6Network: an IPv6 client is known by its /64, so the
// owner's next address in the same /64 (privacy addresses change daily)
// still logs in after strangers reached the account limit; another /64
// does not. Clients arrive through a balancer's PROXY protocol header.
func TestNoLockoutIPv6Network(t *testing.T) {
	w := setupWorld(t, "--limit-auth-failures", "3", "--proxy-protocol-from", "127.0.0.1/32")
	if got := imapLoginAs(t, w, "2001:db8:1:2::10", alice, alicePass); got != loginOK {
		t.Fatalf("the owner's first login: %s", got)
	}
	for i := range 3 {
		if got := imapLoginAs(t, w, fmt.Sprintf("2001:db8:66:%d::1", i+1), alice, "wrong"); got != loginFailed {
			t.Fatalf("stranger %d: %s; want failed", i+1, got)
		}
	}
	if got := imapLoginAs(t, w, "2001:db8:1:3::10", alice, alicePass); got != loginBlocked {
		t.Errorf("a neighbouring /64 with the right password: %s; want blocked", got)
	}
	if got := imapLoginAs(t, w, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", alice, alicePass); got != loginOK {
		t.Errorf("the owner's /64 locked out: %s", got)
	}
	// fail2ban reads the IPv6 addresses of the failures, and only those.
	if regex, err := exec.LookPath("fail2ban-regex"); err == nil {
		got := runFail2banRegex(t, regex, waitLogLines(t, w, `"msg":"authentication failed"`, 3))
		want := []string{"2001:db8:66:1::1", "2001:db8:66:2::1", "2001:db8:66:3::1"}
		if !slices.Equal(got, want) {
			t.Errorf("fail2ban-regex found %v; want %v", got, want)
		}
	}
}
