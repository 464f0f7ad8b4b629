package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

// connWorld runs the binary behind a "balancer" at 127.0.0.1, so that the
// tests can connect from any client IP, with small connection limits.
func connWorld(t *testing.T) *world {
	return setupWorld(t, "--proxy-protocol-from", "127.0.0.1/32",
		"--max-connections", "3", "--max-connections-per-ip", "2",
		"--tls-handshake-timeout", "300ms", "--line-timeout", "500ms", "--min-line-rate", "1000")
}

// dialProxied connects to listener name as client ip (PROXY v2 header);
// reads give up after 10 s.
func dialProxied(t *testing.T, w *world, name, ip string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", w.srv.addr(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	dst := netip.MustParseAddrPort(c.RemoteAddr().String())
	if _, err := c.Write(proxyV2(netip.AddrPortFrom(netip.MustParseAddr(ip), 40000), dst)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func TestConnectionLimits(t *testing.T) {
	w := connWorld(t)
	t.Run("silent TLS clients are closed", func(t *testing.T) {
		for i, name := range []string{"submissions", "imaps", "pop3s"} {
			_, r := dialProxied(t, w, name, fmt.Sprintf("198.51.100.%d", i+1))
			testenv.WantClosed(t, r, name+" without a ClientHello")
		}
	})
	t.Run("trickled lines are cut", func(t *testing.T) {
		for i, tc := range []struct{ name, line string }{
			{"smtp", "EHLO "}, {"imap", "a LOGIN "}, {"pop3", "USER "},
		} {
			c, r := dialProxied(t, w, tc.name, fmt.Sprintf("198.51.100.%d", 10+i))
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatalf("%s greeting: %v", tc.name, err)
			}
			go func() {
				for _, b := range []byte(tc.line + strings.Repeat("x", 300) + "\r\n") {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}()
			testenv.WantClosed(t, r, tc.name+" line sent a byte per 50 ms")
		}
	})
	t.Run("caps refuse the next connection", func(t *testing.T) {
		greet := func(name, ip string) string {
			_, r := dialProxied(t, w, name, ip)
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s from %s: %v", name, ip, err)
			}
			return line
		}
		for _, name := range []string{"smtp", "imap", "pop3"} {
			refusal := map[string]string{
				"smtp": "421 4.7.0 mx.test.example Too many connections, try again later\r\n",
				"imap": "* BYE [UNAVAILABLE] Too many connections, try again later\r\n",
				"pop3": "-ERR [SYS/TEMP] Service unavailable: too many connections, try again later\r\n",
			}[name]
			for _, step := range []struct {
				ip      string
				refused bool
			}{
				{"203.0.113.1", false}, {"203.0.113.1", false},
				{"203.0.113.1", true}, // over the per-IP cap
				{"203.0.113.2", false},
				{"203.0.113.3", true}, // over the listener's cap
			} {
				got := greet(name, step.ip)
				if step.refused != (got == refusal) || (!step.refused && strings.Contains(got, "Too many")) {
					t.Fatalf("%s from %s: %q (refusal expected: %v)", name, step.ip, got, step.refused)
				}
			}
		}
		for _, reason := range []string{`"reason":"max_connections_per_ip"`, `"reason":"max_connections"`} {
			if !w.srv.logContains(reason) {
				t.Errorf("no refusal logged with %s", reason)
			}
		}
	})
}
