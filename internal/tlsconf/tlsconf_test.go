package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func leaf(t *testing.T, c *tls.Config) *x509.Certificate {
	t.Helper()
	if len(c.Certificates) != 1 {
		t.Fatalf("%d certificates, want 1", len(c.Certificates))
	}
	x, err := x509.ParseCertificate(c.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestSelfSignedCreatedThenReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	var logs bytes.Buffer
	c1, err := Load("", "", dir, "mail.example.org", testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if c1.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion = %x, want TLS 1.2", c1.MinVersion)
	}
	x1 := leaf(t, c1)
	if err := x1.VerifyHostname("mail.example.org"); err != nil {
		t.Fatalf("certificate does not name the host: %v", err)
	}
	if !strings.Contains(logs.String(), "self-signed") {
		t.Fatalf("creation was not logged: %q", logs.String())
	}
	fi, err := os.Stat(filepath.Join(dir, SelfSignedKey))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode())
	}

	logs.Reset()
	c2, err := Load("", "", dir, "mail.example.org", testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if !leaf(t, c2).Equal(x1) {
		t.Fatal("second Load made a new certificate instead of reusing the first")
	}
	if logs.Len() != 0 {
		t.Fatalf("reuse logged: %q", logs.String())
	}
}

func TestSelfSignedReplacesMismatchedPair(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load("", "", dir, "a.example", nil); err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := generate("b.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SelfSignedKey), otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if _, err := Load("", "", dir, "a.example", testLogger(&logs)); err != nil {
		t.Fatalf("Load over a mismatched pair: %v", err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, SelfSignedCert), filepath.Join(dir, SelfSignedKey)); err != nil {
		t.Fatalf("pair on disk still unusable: %v", err)
	}
}

func TestIPHostname(t *testing.T) {
	c, err := Load("", "", t.TempDir(), "127.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	x := leaf(t, c)
	if len(x.IPAddresses) != 1 || !x.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("IP SANs = %v", x.IPAddresses)
	}
}

func TestLoadGivenFiles(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := generate("given.example")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	c, err := Load(certFile, keyFile, dataDir, "ignored.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS12 || leaf(t, c).Subject.CommonName != "given.example" {
		t.Fatalf("loaded %q, min version %x", leaf(t, c).Subject.CommonName, c.MinVersion)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("a self-signed pair was made although files were given (%v)", err)
	}

	if _, err := Load(certFile, "", dataDir, "x", nil); err == nil {
		t.Fatal("Load with only a certificate file succeeded")
	}
	if _, err := Load("", keyFile, dataDir, "x", nil); err == nil {
		t.Fatal("Load with only a key file succeeded")
	}
	if _, err := Load(certFile, filepath.Join(dir, "missing.pem"), dataDir, "x", nil); err == nil {
		t.Fatal("Load with a missing key file succeeded")
	}
}

// TestHandshake checks the configuration in use: a TLS 1.2 client gets in,
// a TLS 1.1 client does not.
func TestHandshake(t *testing.T) {
	c, err := Load("", "", t.TempDir(), "localhost", nil)
	if err != nil {
		t.Fatal(err)
	}
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
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(leaf(t, c))
	for _, tc := range []struct {
		max uint16
		ok  bool
	}{{tls.VersionTLS13, true}, {tls.VersionTLS12, true}, {tls.VersionTLS11, false}} {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
			RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: tc.max,
		})
		if err == nil {
			conn.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("client max version %x: err = %v, want ok=%v", tc.max, err, tc.ok)
		}
	}
}
