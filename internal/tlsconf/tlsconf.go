// Package tlsconf builds the TLS configuration shared by the SMTP, IMAP and
// POP3 listeners: a certificate given by the operator, or else a
// self-signed one made once and kept in the data directory, so that
// STARTTLS (RFC 3207, RFC 2595) and implicit TLS (RFC 8314) work out of the
// box.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Names of the self-signed pair in the data directory.
const (
	SelfSignedCert = "tls-selfsigned-cert.pem"
	SelfSignedKey  = "tls-selfsigned-key.pem"
)

// selfSignedLifetime is how long a generated certificate is valid; an
// expired one is replaced at the next start.
const selfSignedLifetime = 5 * 365 * 24 * time.Hour

// Load returns a static server TLS configuration (the policy of
// applyPolicy: TLS 1.2 minimum, RFC 8996); Open makes one that reloads.
// With certFile and keyFile it loads them. With neither it loads the
// self-signed pair in dataDir, first creating it for hostname (and logging
// so) when it is missing, expired or unusable. Giving only one file is an error.
func Load(certFile, keyFile, dataDir, hostname string, log *slog.Logger) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case certFile != "" && keyFile != "":
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: %w", err)
		}
	case certFile != "" || keyFile != "":
		return nil, errors.New("tlsconf: give both a certificate and a key file, or neither")
	default:
		cert, err = selfSigned(dataDir, hostname, log)
		if err != nil {
			return nil, err
		}
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}}
	applyPolicy(c)
	return c, nil
}

// selfSigned loads the self-signed pair of dataDir, creating it if needed.
func selfSigned(dataDir, hostname string, log *slog.Logger) (tls.Certificate, error) {
	certPath := filepath.Join(dataDir, SelfSignedCert)
	keyPath := filepath.Join(dataDir, SelfSignedKey)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil && cert.Leaf != nil && time.Now().Before(cert.Leaf.NotAfter) {
		return cert, nil
	}
	// The pair is ours: whatever is wrong with it (missing, expired, or
	// mismatched because two processes created it at once), make a new one.
	if err != nil && !errors.Is(err, os.ErrNotExist) && log != nil {
		log.Warn("replacing unusable self-signed TLS certificate", slog.String("err", err.Error()))
	}
	certPEM, keyPEM, err := generate(hostname)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w", err)
	}
	// The key first: a pair whose certificate exists always has its key.
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	if log != nil {
		log.Warn("created a self-signed TLS certificate; clients will not trust it",
			slog.String("hostname", hostname), slog.String("cert", certPath))
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w", err)
	}
	return cert, nil
}

// generate makes a self-signed ECDSA P-256 certificate for hostname.
func generate(hostname string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hostname},
		NotBefore:             now.Add(-time.Hour), // tolerate clock skew
		NotAfter:              now.Add(selfSignedLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(hostname); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else if hostname != "" {
		tmpl.DNSNames = []string{hostname}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeFile writes data to path atomically (temporary file and rename), so
// that processes starting together never read half a file.
func writeFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("tlsconf: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return fmt.Errorf("tlsconf: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("tlsconf: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("tlsconf: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tlsconf: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("tlsconf: %w", err)
	}
	return nil
}
