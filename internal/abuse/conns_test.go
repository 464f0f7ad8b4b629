package abuse

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/proxyproto"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

const testRefusal = "NO too many\r\n"

// lineServer serves ln: a greeting, then "OK <line>" per line read. The
// error that ended each connection's reads goes to the returned channel.
func lineServer(t *testing.T, ln net.Listener) <-chan error {
	t.Helper()
	ended := make(chan error, 100)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				fmt.Fprintf(c, "HELLO\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						ended <- err
						return
					}
					fmt.Fprintf(c, "OK %s", line)
				}
			}()
		}
	}()
	return ended
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// dialLine connects, writes prefix (a PROXY header, or nothing) and
// returns the connection and its first line.
func dialLine(t *testing.T, addr, prefix string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, prefix); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the greeting: %v", err)
	}
	return c, r, line
}

func TestMaxConnsRefusesTheNextOne(t *testing.T) {
	ln := ConnConfig{MaxConns: 2}.Listener(listen(t), nil, testRefusal)
	lineServer(t, ln)
	a, _, g1 := dialLine(t, ln.Addr().String(), "")
	_, _, g2 := dialLine(t, ln.Addr().String(), "")
	_, _, g3 := dialLine(t, ln.Addr().String(), "")
	if g1 != "HELLO\r\n" || g2 != "HELLO\r\n" || g3 != testRefusal {
		t.Fatalf("greetings %q %q %q, want two HELLO and a refusal", g1, g2, g3)
	}
	a.Close() // the server sees EOF and closes its end: a place frees up
	for i := 0; ; i++ {
		if _, _, g := dialLine(t, ln.Addr().String(), ""); g == "HELLO\r\n" {
			break
		}
		if i == 100 {
			t.Fatal("a closed connection never left the count")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMaxConnsPerIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	raw := proxyproto.NewListener(listen(t), trusted, 0, nil)
	ln := ConnConfig{MaxConnsPerIP: 2}.Listener(raw, nil, testRefusal)
	lineServer(t, ln)
	from := func(ip string) string {
		fam := "TCP4"
		if strings.Contains(ip, ":") {
			fam = "TCP6"
		}
		_, _, g := dialLine(t, ln.Addr().String(), fmt.Sprintf("PROXY %s %s %s 40000 25\r\n", fam, ip, ip))
		return g
	}
	for _, step := range []struct{ ip, want string }{
		{"192.0.2.1", "HELLO\r\n"}, {"192.0.2.1", "HELLO\r\n"}, {"192.0.2.1", testRefusal},
		{"192.0.2.2", "HELLO\r\n"},
		// One /64 is one client.
		{"2001:db8::1", "HELLO\r\n"}, {"2001:db8::2", "HELLO\r\n"}, {"2001:db8::3", testRefusal},
		{"2001:db8:0:1::1", "HELLO\r\n"},
	} {
		if g := from(step.ip); g != step.want {
			t.Fatalf("from %s: greeting %q, want %q", step.ip, g, step.want)
		}
	}
}

func TestLoopbackNotCappedPerIP(t *testing.T) {
	ln := ConnConfig{MaxConnsPerIP: 1}.Listener(listen(t), nil, testRefusal)
	lineServer(t, ln)
	for i := range 3 {
		if _, _, g := dialLine(t, ln.Addr().String(), ""); g != "HELLO\r\n" {
			t.Fatalf("loopback connection %d: greeting %q", i+1, g)
		}
	}
}

// trickle writes s one byte per interval and returns the first error.
func trickle(c net.Conn, s string, interval time.Duration) error {
	for i := range len(s) {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return err
		}
		time.Sleep(interval)
	}
	return nil
}

func TestTrickledLineIsCut(t *testing.T) {
	cfg := ConnConfig{LineTimeout: 300 * time.Millisecond, MinLineRate: 1000}
	ln := cfg.Listener(listen(t), nil, testRefusal)
	ended := lineServer(t, ln)
	c, r, _ := dialLine(t, ln.Addr().String(), "")
	// A byte per 50 ms buys 1 ms each: the bound is reached after about
	// 320 ms, long before this line of 200 bytes would end (10 s).
	_ = trickle(c, strings.Repeat("x", 200)+"\n", 50*time.Millisecond)
	select {
	case err := <-ended:
		if !errors.Is(err, errLineTooSlow) {
			t.Fatalf("the server's read ended with %v, want errLineTooSlow", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the trickled line was not cut")
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("the connection of a cut line stayed open")
	}
}

func TestIdleAndFastLinesAreNotCut(t *testing.T) {
	cfg := ConnConfig{LineTimeout: 200 * time.Millisecond, MinLineRate: 1000}
	ln := cfg.Listener(listen(t), nil, testRefusal)
	lineServer(t, ln)
	c, r, _ := dialLine(t, ln.Addr().String(), "")
	for i := range 3 {
		// Idle between commands for twice the bound: not counted.
		time.Sleep(400 * time.Millisecond)
		// A line in a few pieces, each well within the bound; and a long
		// input that takes longer than the bound but keeps the rate.
		if err := trickle(c, fmt.Sprintf("line %d\n", i), 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if got, err := r.ReadString('\n'); err != nil || got != fmt.Sprintf("OK line %d\n", i) {
			t.Fatalf("answer %q, %v", got, err)
		}
	}
	long := strings.Repeat("y", 40<<10)
	for i := 0; i < len(long); i += 4 << 10 {
		if _, err := io.WriteString(c, long[i:i+4<<10]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // 300 ms in all: past the bound
	}
	if _, err := io.WriteString(c, "\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.ReadString('\n'); err != nil || len(got) != len(long)+4 {
		t.Fatalf("answer to the long line: %d bytes, %v", len(got), err)
	}
}

func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	return testenv.NewCert(t, "localhost").Server
}

func TestTLSListenerEndsSilentHandshakes(t *testing.T) {
	serverTLS := testTLS(t)
	cfg := ConnConfig{HandshakeTimeout: 200 * time.Millisecond}
	ln := cfg.TLSListener(cfg.Listener(listen(t), serverTLS, testRefusal), serverTLS)
	lineServer(t, ln)
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// A handshake that works is not held up by the silent one.
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if g, err := bufio.NewReader(c).ReadString('\n'); err != nil || g != "HELLO\r\n" {
		t.Fatalf("greeting over TLS %q, %v", g, err)
	}
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("a connection without ClientHello: read %v, want EOF (closed by the server)", err)
	}
}

func TestTLSRefusalIsSentInsideTLS(t *testing.T) {
	serverTLS := testTLS(t)
	cfg := ConnConfig{MaxConns: 1}
	ln := cfg.TLSListener(cfg.Listener(listen(t), serverTLS, testRefusal), serverTLS)
	lineServer(t, ln)
	var greetings []string
	for range 2 {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		g, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		greetings = append(greetings, g)
	}
	if greetings[0] != "HELLO\r\n" || greetings[1] != testRefusal {
		t.Fatalf("greetings %q, want HELLO then the refusal", greetings)
	}
}

// TestAnswerDuringReadRestartsTheBound: the server writes (IMAP IDLE's
// updates) while a line is arriving; each write is an answer, so the
// bound that expires meanwhile is not a cut but a new start.
func TestAnswerDuringReadRestartsTheBound(t *testing.T) {
	cfg := ConnConfig{LineTimeout: 200 * time.Millisecond, MinLineRate: 1000}
	ln := cfg.Listener(listen(t), nil, testRefusal)
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					_, _ = io.WriteString(c, "* 1 EXISTS\r\n")
				}
			}
		}()
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			line = err.Error()
		}
		got <- line
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := trickle(c, "D", 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "ONE\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-got:
		if line != "DONE\r\n" {
			t.Fatalf("the server read %q, want DONE", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server read nothing")
	}
}
