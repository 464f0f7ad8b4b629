package e2e

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// proxyV2 is a PROXY protocol v2 header for a TCP4 connection from src.
func proxyV2(src, dst netip.AddrPort) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	s, d := src.Addr().As4(), dst.Addr().As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// objectsContaining returns the message objects under dataDir that
// contain sub.
func objectsContaining(t *testing.T, dataDir, sub string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dataDir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), sub) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProxyProtocolTrusted: behind a balancer at 127.0.0.1 the SMTP edge
// takes the client's address from the PROXY v2 header, for the Received
// line and the log.
func TestProxyProtocolTrusted(t *testing.T) {
	w := setupWorld(t, "--proxy-protocol-from", "127.0.0.1/32")
	conn, err := net.Dial("tcp", w.srv.addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := netip.MustParseAddrPort("203.0.113.77:40123")
	if _, err := conn.Write(proxyV2(client, netip.MustParseAddrPort("198.51.100.1:25"))); err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	if err := c.Hello("client.example.net"); err != nil {
		t.Fatalf("EHLO after the PROXY header: %v", err)
	}
	if err := send(c, sender, []string{alice}, message(sender, alice, "proxied", "hello")); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()
	if n := objectsContaining(t, w.dataDir, "[203.0.113.77]"); n != 1 {
		t.Errorf("%d message objects name the proxied client in Received:, want 1", n)
	}
	if !w.srv.logContains(`"client_ip":"203.0.113.77"`) {
		t.Errorf("the log does not show the proxied client IP:\n%s", w.srv.logTail(40))
	}
	// A connection from the trusted balancer without a header is refused.
	bare, err := net.Dial("tcp", w.srv.addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	_, _ = bare.Write([]byte("EHLO sneaky.example\r\n"))
	_ = bare.SetReadDeadline(time.Now().Add(30 * time.Second))
	if line, err := bufio.NewReader(bare).ReadString('\n'); err == nil {
		t.Errorf("a trusted connection without a PROXY header got %q, want it closed", line)
	}
}

// TestProxyProtocolUntrusted: from a source outside --proxy-protocol-from
// the header is not trusted: it reaches SMTP as a bad command and the
// client's real address is the one used.
func TestProxyProtocolUntrusted(t *testing.T) {
	w := setupWorld(t, "--proxy-protocol-from", "10.0.0.0/8")
	conn, err := net.Dial("tcp", w.srv.addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting %q, %v", line, err)
	}
	if _, err := conn.Write([]byte("PROXY TCP4 203.0.113.88 198.51.100.1 40000 25\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "5") {
		t.Fatalf("an untrusted PROXY line got %q, %v; want a 5xx reply", line, err)
	}
	// The v2 header, whose signature holds a QUIT line, ends the session.
	conn2, err := net.Dial("tcp", w.srv.addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if _, err := conn2.Write(proxyV2(netip.MustParseAddrPort("203.0.113.88:40000"), netip.MustParseAddrPort("198.51.100.1:25"))); err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn2)
	if err := c.Hello("client.example.net"); err == nil {
		if err := send(c, sender, []string{alice}, message(sender, alice, "spoofed", "x")); err == nil {
			t.Fatal("a message was accepted after an untrusted PROXY v2 header")
		}
	}
	// A plain client on the same listener is served with its real address.
	mustSend(t, w.srv.addr("smtp"), sender, []string{alice}, message(sender, alice, "direct", "hello"))
	if n := objectsContaining(t, w.dataDir, "203.0.113.88"); n != 0 {
		t.Errorf("%d objects name the address of an untrusted header", n)
	}
	if w.srv.logContains(`"client_ip":"203.0.113.88"`) {
		t.Error("the log shows the address of an untrusted header")
	}
	if !w.srv.logContains(`"client_ip":"127.0.0.1"`) {
		t.Errorf("the log does not show the real client IP:\n%s", w.srv.logTail(40))
	}
}
