package tlsconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// acmeALPN is the protocol of TLS-ALPN-01 validation (RFC 8737 section 6.2).
const acmeALPN = acme.ALPNProto

// cachePrefix starts the object keys of the ACME cache in the blob store.
const cachePrefix = "acme/"

// maxCacheObject bounds what Get reads: certificates and keys are a few KB.
const maxCacheObject = 1 << 20

// ACMEOptions configures certificates from an ACME CA (RFC 8555).
type ACMEOptions struct {
	Domains      []string   // the only names certificates are requested for
	Email        string     // contact of the account; may be empty
	DirectoryURL string     // "" is Let's Encrypt production
	Blobs        blob.Store // the cache, shared by every node
	Hostname     string     // preferred name for clients without SNI
}

// acmeManager is autocert with the set of names it answers for.
type acmeManager struct {
	mgr     *autocert.Manager
	domains map[string]bool
	// defaultName is served to handshakes without SNI: the host name
	// when it is an ACME name, else the first ACME name.
	defaultName string
}

func newACME(o ACMEOptions) (*acmeManager, error) {
	if len(o.Domains) == 0 {
		return nil, errors.New("tlsconf: ACME needs at least one domain")
	}
	if o.Blobs == nil {
		return nil, errors.New("tlsconf: ACME needs a blob store for its cache")
	}
	a := &acmeManager{domains: map[string]bool{}}
	var names []string
	for _, d := range o.Domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if d == "" {
			continue
		}
		a.domains[d] = true
		names = append(names, d)
	}
	if len(names) == 0 {
		return nil, errors.New("tlsconf: ACME needs at least one domain")
	}
	a.defaultName = names[0]
	if a.handles(o.Hostname) {
		a.defaultName = strings.ToLower(strings.TrimSuffix(o.Hostname, "."))
	}
	a.mgr = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      BlobCache{Blobs: o.Blobs},
		HostPolicy: autocert.HostWhitelist(names...),
		Email:      o.Email,
	}
	if o.DirectoryURL != "" {
		a.mgr.Client = &acme.Client{DirectoryURL: o.DirectoryURL}
	}
	return a, nil
}

// handles reports whether ACME manages name (the SNI of a handshake).
func (a *acmeManager) handles(name string) bool {
	return a.domains[strings.ToLower(strings.TrimSuffix(name, "."))]
}

// HTTPHandler wraps h so that the HTTP-01 challenges (RFC 8555 section 8.3)
// of the ACME names are answered; without ACME it returns h.
func (m *Manager) HTTPHandler(h http.Handler) http.Handler {
	if m.acme == nil {
		return h
	}
	return m.acme.mgr.HTTPHandler(h)
}

// BlobCache is an autocert.Cache kept in the blob store under acme/, so
// every node of a deployment shares the account key and certificates.
type BlobCache struct{ Blobs blob.Store }

var _ autocert.Cache = BlobCache{}

// Get returns the data of name, or autocert.ErrCacheMiss.
func (c BlobCache) Get(ctx context.Context, name string) ([]byte, error) {
	rc, err := c.Blobs.Get(ctx, cacheKey(name), 0, -1)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	if err != nil {
		return nil, fmt.Errorf("tlsconf: acme cache: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxCacheObject))
	if err != nil {
		return nil, fmt.Errorf("tlsconf: acme cache: %w", err)
	}
	return b, nil
}

// Put stores data under name.
func (c BlobCache) Put(ctx context.Context, name string, data []byte) error {
	if _, err := c.Blobs.Put(ctx, cacheKey(name), bytes.NewReader(data), nil); err != nil {
		return fmt.Errorf("tlsconf: acme cache: %w", err)
	}
	return nil
}

// Delete removes name; a missing one is not an error.
func (c BlobCache) Delete(ctx context.Context, name string) error {
	err := c.Blobs.Delete(ctx, cacheKey(name))
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("tlsconf: acme cache: %w", err)
	}
	return nil
}

// cacheKey encodes an autocert name (a host name, maybe with "+rsa" or
// "+token", or "acme_account+key") into an object key: letters, digits,
// '-' and single '.' stay; every other byte becomes _XX (hex), so no key
// is built from the raw string.
func cacheKey(name string) string {
	var b strings.Builder
	b.WriteString(cachePrefix)
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '-':
			b.WriteByte(ch)
		case ch == '.' && i > 0 && name[i-1] != '.' && i < len(name)-1:
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, "_%02x", ch)
		}
	}
	return b.String()
}
