package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
	"github.com/bucketmail/bucketmail/internal/tlsconf"
)

// writeTestPair writes a self-signed pair for cn.
func writeTestPair(t *testing.T, certFile, keyFile, cn string) {
	t.Helper()
	testenv.NewCert(t, cn).WritePEM(t, certFile, keyFile)
}

func servedName(t *testing.T, m *tlsconf.Manager) string {
	t.Helper()
	c, err := m.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return x.Subject.CommonName
}

// TestSIGHUPReloadsCertificate: with polling out of the way, SIGHUP alone
// makes a running process serve the new pair.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeTestPair(t, certFile, keyFile, "a.example")
	m, err := tlsconf.Open(tlsconf.Options{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	p := newTestProcess()
	p.tls, p.tlsPoll = m, time.Hour
	stop := p.watchTLS(context.Background())
	defer stop()
	writeTestPair(t, certFile, keyFile, "b.example")
	if got := servedName(t, m); got != "a.example" {
		t.Fatalf("before SIGHUP: %q", got)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for servedName(t, m) != "b.example" {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload the certificate")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdownBounded: a server that does not stop in time does not hold
// the process beyond shutdownTimeout.
func TestShutdownBounded(t *testing.T) {
	p := newTestProcess()
	p.shutdownTimeout = 200 * time.Millisecond
	p.stoppers = []func(context.Context) error{func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	p.worker = func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(time.Hour) // a job that never ends
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := p.run(ctx); err != nil {
		t.Fatalf("run = %v, want nil after a timed-out shutdown", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %s with a 200ms bound", took)
	}
}
