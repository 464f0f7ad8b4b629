package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/tlsconf"
)

// TestStartTLS: after STARTTLS the session goes on over TLS, and a command
// the client sent in plain text behind STARTTLS is not run (RFC 9051
// section 11.1, command injection).
func TestStartTLS(t *testing.T) {
	tlsCfg, err := tlsconf.Load("", "", t.TempDir(), "localhost", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(new([]string))
	cfg.TLS = tlsCfg
	srvConn, cliConn := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(cfg).Serve(context.Background(), srvConn)
	}()
	defer func() { cliConn.Close(); <-done }()

	br := bufio.NewReader(cliConn)
	readLine := func(conn *bufio.Reader) string {
		l, err := conn.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return strings.TrimSuffix(l, "\r\n")
	}
	if l := readLine(br); !strings.Contains(l, "STARTTLS") {
		t.Fatalf("greeting %q does not offer STARTTLS", l)
	}
	go io.WriteString(cliConn, "a STARTTLS\r\nb LOGIN joe secret\r\n")
	if l := readLine(br); l != "a OK Begin TLS negotiation now" {
		t.Fatalf("STARTTLS: %q", l)
	}
	tc := tls.Client(cliConn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	tbr := bufio.NewReader(tc)
	go io.WriteString(tc, "c CAPABILITY\r\n")
	caps := readLine(tbr)
	if !strings.HasPrefix(caps, "* CAPABILITY ") || strings.Contains(caps, "STARTTLS") {
		t.Fatalf("capabilities over TLS %q", caps)
	}
	// The injected LOGIN would have answered first.
	if l := readLine(tbr); l != "c OK CAPABILITY completed" {
		t.Fatalf("after CAPABILITY: %q", l)
	}
	go io.WriteString(tc, "d STARTTLS\r\n")
	if l := readLine(tbr); l != "d BAD STARTTLS not available" {
		t.Fatalf("second STARTTLS: %q", l)
	}
}
