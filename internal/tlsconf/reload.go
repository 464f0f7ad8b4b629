package tlsconf

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultPollInterval is how often Watch looks at the certificate files.
const DefaultPollInterval = 5 * time.Second

// Options configures Open.
type Options struct {
	CertFile, KeyFile string // both or neither; neither: self-signed in DataDir
	DataDir           string
	Hostname          string
	Log               *slog.Logger
	ACME              *ACMEOptions // nil: no ACME
}

// Manager owns the certificates of a process. Its Config serves the current
// certificate to every new handshake, so a renewed pair takes effect without
// a restart; connections already open keep the one they started with.
type Manager struct {
	certFile, keyFile string
	log               *slog.Logger
	acme              *acmeManager // nil without ACME

	reloadMu sync.Mutex // one Reload at a time
	mu       sync.RWMutex
	cert     *tls.Certificate
	stamp    fileStamp // of the files cert was read from
}

// fileStamp identifies a version of the pair by modification time and size.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// Open loads the certificate as Load does and returns its Manager.
func Open(o Options) (*Manager, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{log: log}
	switch {
	case o.CertFile != "" && o.KeyFile != "":
		m.certFile, m.keyFile = o.CertFile, o.KeyFile
		st, err := stampOf(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: %w", err)
		}
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: %w", err)
		}
		m.cert, m.stamp = &cert, st
	case o.CertFile != "" || o.KeyFile != "":
		return nil, errors.New("tlsconf: give both a certificate and a key file, or neither")
	default:
		cert, err := selfSigned(o.DataDir, o.Hostname, o.Log)
		if err != nil {
			return nil, err
		}
		m.cert = &cert
	}
	if o.ACME != nil {
		a, err := newACME(*o.ACME)
		if err != nil {
			return nil, err
		}
		m.acme = a
	}
	return m, nil
}

// Config returns a server configuration with the policy of this package
// whose certificate is chosen per handshake by GetCertificate.
func (m *Manager) Config() *tls.Config {
	c := &tls.Config{GetCertificate: m.GetCertificate}
	applyPolicy(c)
	if m.acme != nil {
		// TLS-ALPN-01 (RFC 8737) validation handshakes ask for acme-tls/1.
		c.NextProtos = append(c.NextProtos, acmeALPN)
	}
	return c
}

// GetCertificate picks the certificate of a handshake: ACME's for the names
// ACME manages, the current file or self-signed pair for any other.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if m.acme != nil {
		if m.acme.handles(hello.ServerName) {
			return m.acme.mgr.GetCertificate(hello)
		}
		if hello.ServerName == "" {
			// Many SMTP clients send no SNI: give them the certificate
			// of the main ACME name when there is one already.
			h := *hello
			h.ServerName = m.acme.defaultName
			if c, err := m.acme.mgr.GetCertificate(&h); err == nil {
				return c, nil
			}
		}
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cert, nil
}

// Reload re-reads the certificate and key files (the operator's pair only;
// a self-signed pair is never replaced while running). A pair that does not
// load is logged and returned as an error; the current one stays in use.
func (m *Manager) Reload() error {
	if m.certFile == "" {
		return nil
	}
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	return m.reload(true)
}

// reload loads the pair; unless force, only when the files changed.
func (m *Manager) reload(force bool) error {
	st, err := stampOf(m.certFile, m.keyFile)
	if err != nil {
		m.log.Error("TLS certificate reload failed; keeping the current one", slog.String("error", err.Error()))
		return fmt.Errorf("tlsconf: %w", err)
	}
	m.mu.RLock()
	same := st == m.stamp
	m.mu.RUnlock()
	if same && !force {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(m.certFile, m.keyFile)
	if err != nil {
		// Remember the stamp so a broken pair is reported once, not at
		// every poll; the next change of either file is tried again.
		m.mu.Lock()
		m.stamp = st
		m.mu.Unlock()
		m.log.Error("TLS certificate reload failed; keeping the current one",
			slog.String("cert", m.certFile), slog.String("error", err.Error()))
		return fmt.Errorf("tlsconf: %w", err)
	}
	m.mu.Lock()
	m.cert, m.stamp = &cert, st
	m.mu.Unlock()
	attrs := []any{slog.String("cert", m.certFile)}
	if cert.Leaf != nil {
		attrs = append(attrs, slog.Time("not_after", cert.Leaf.NotAfter))
	}
	m.log.Info("TLS certificate loaded", attrs...)
	return nil
}

// Watch polls the certificate files every interval (DefaultPollInterval if
// 0) and reloads them when their modification time or size changed, until
// ctx ends.
func (m *Manager) Watch(ctx context.Context, interval time.Duration) {
	if m.certFile == "" {
		return
	}
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.reloadMu.Lock()
			_ = m.reload(false) // logged
			m.reloadMu.Unlock()
		}
	}
}

func stampOf(certFile, keyFile string) (fileStamp, error) {
	c, err := os.Stat(certFile)
	if err != nil {
		return fileStamp{}, err
	}
	k, err := os.Stat(keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}
