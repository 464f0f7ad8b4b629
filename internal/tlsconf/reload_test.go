package tlsconf

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

// writePair writes a fresh self-signed pair for cn to certFile/keyFile and
// moves their modification time forward, so a change is seen even on file
// systems with coarse timestamps.
func writePair(t *testing.T, certFile, keyFile, cn string, age time.Duration) {
	t.Helper()
	certPEM, keyPEM, err := generate(cn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, age, certFile, keyFile)
}

func touch(t *testing.T, age time.Duration, files ...string) {
	t.Helper()
	when := time.Now().Add(age)
	for _, f := range files {
		if err := os.Chtimes(f, when, when); err != nil {
			t.Fatal(err)
		}
	}
}

// serveTLS accepts TLS connections with c and completes their handshakes.
func serveTLS(t *testing.T, c *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.(*tls.Conn).Handshake()
				_, _ = conn.Read(make([]byte, 1)) // until the client closes
			}()
		}
	}()
	return ln.Addr().String()
}

// servedCN connects to addr and returns the common name it was shown.
func servedCN(t *testing.T, addr, serverName string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true, ServerName: serverName})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

func waitCN(t *testing.T, addr, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := servedCN(t, addr, "")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("served %q, want %q after the files changed", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatchReloadsChangedPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePair(t, certFile, keyFile, "a.example", -time.Hour)
	var logs testenv.Log
	m, err := Open(Options{CertFile: certFile, KeyFile: keyFile, Log: testLogger2(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	go m.Watch(ctx, 20*time.Millisecond)
	addr := serveTLS(t, m.Config())
	if got := servedCN(t, addr, ""); got != "a.example" {
		t.Fatalf("served %q, want a.example", got)
	}

	writePair(t, certFile, keyFile, "b.example", 0)
	waitCN(t, addr, "b.example")

	// A broken certificate file: logged, and B stays.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, time.Hour, certFile)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("broken pair not reported; log: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := servedCN(t, addr, ""); got != "b.example" {
		t.Fatalf("after a broken pair served %q, want b.example kept", got)
	}
}

func TestReloadOnDemand(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePair(t, certFile, keyFile, "a.example", -time.Hour)
	m, err := Open(Options{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, m.Config()) // no Watch: only Reload changes it
	writePair(t, certFile, keyFile, "c.example", 0)
	if got := servedCN(t, addr, ""); got != "a.example" {
		t.Fatalf("before Reload served %q, want a.example", got)
	}
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := servedCN(t, addr, ""); got != "c.example" {
		t.Fatalf("after Reload served %q, want c.example", got)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(); err == nil {
		t.Fatal("Reload without a key file succeeded")
	}
	if got := servedCN(t, addr, ""); got != "c.example" {
		t.Fatalf("after a failed Reload served %q, want c.example kept", got)
	}
}

func TestPolicy(t *testing.T) {
	m, err := Open(Options{DataDir: t.TempDir(), Hostname: "mail.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, m.Config())
	// TLS 1.1 and a CBC suite are refused.
	for name, c := range map[string]*tls.Config{
		"TLS 1.1": {MaxVersion: tls.VersionTLS11},
		"CBC suite": {MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}},
	} {
		c.InsecureSkipVerify = true
		conn, err := tls.Dial("tcp", addr, c)
		if err == nil {
			conn.Close()
			t.Errorf("%s: handshake succeeded", name)
		}
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 with an AEAD suite: %v", err)
	}
	conn.Close()
}

func TestOpenNeedsBothFiles(t *testing.T) {
	_, err := Open(Options{CertFile: "x.pem"})
	if err == nil || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open with only a certificate: %v", err)
	}
}

func testLogger2(w *testenv.Log) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
