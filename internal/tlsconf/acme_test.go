package tlsconf

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/acme/autocert"

	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func blobCache(t *testing.T) BlobCache {
	t.Helper()
	bl := testenv.LocalBlobs(t)
	return BlobCache{Blobs: bl}
}

func TestBlobCacheRoundTrip(t *testing.T) {
	c := blobCache(t)
	ctx := context.Background()
	for _, name := range []string{"mail.example.org", "mail.example.org+rsa", "acme_account+key", "x+token", "..", "*.example"} {
		if _, err := c.Get(ctx, name); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("Get(%q) before Put: %v, want ErrCacheMiss", name, err)
		}
		data := []byte("data of " + name)
		if err := c.Put(ctx, name, data); err != nil {
			t.Fatalf("Put(%q): %v", name, err)
		}
		got, err := c.Get(ctx, name)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get(%q) = %q, %v; want %q", name, got, err, data)
		}
		if err := c.Delete(ctx, name); err != nil {
			t.Fatalf("Delete(%q): %v", name, err)
		}
		if err := c.Delete(ctx, name); err != nil {
			t.Fatalf("Delete(%q) of a missing name: %v", name, err)
		}
		if _, err := c.Get(ctx, name); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("Get(%q) after Delete: %v, want ErrCacheMiss", name, err)
		}
	}
}

func TestCacheKeyEncodes(t *testing.T) {
	for name, want := range map[string]string{
		"mail.example.org":     "acme/mail.example.org",
		"mail.example.org+rsa": "acme/mail.example.org_2brsa",
		"acme_account+key":     "acme/acme_5faccount_2bkey",
		"../x":                 "acme/_2e_2e_2fx",
		"a/b":                  "acme/a_2fb",
	} {
		if got := cacheKey(name); got != want {
			t.Errorf("cacheKey(%q) = %q, want %q", name, got, want)
		}
		if err := fs.ValidKey(cacheKey(name)); err != nil {
			t.Errorf("cacheKey(%q): %v", name, err)
		}
	}
}

// TestACMEChoosesByName: a name on the ACME list is served from the ACME
// cache (so no CA is contacted), as is a handshake without SNI; any other
// name gets the self-signed pair.
func TestACMEChoosesByName(t *testing.T) {
	cache := blobCache(t)
	certPEM, keyPEM, err := generate("mail.example.org")
	if err != nil {
		t.Fatal(err)
	}
	// autocert's cache format: the private key, then the chain.
	if err := cache.Put(context.Background(), "mail.example.org", append(keyPEM, certPEM...)); err != nil {
		t.Fatal(err)
	}
	m, err := Open(Options{
		DataDir:  t.TempDir(),
		Hostname: "other.example",
		ACME: &ACMEOptions{
			Domains:      []string{"Mail.Example.org."},
			Email:        "postmaster@example.org",
			DirectoryURL: "http://127.0.0.1:9/directory", // never reached
			Blobs:        cache.Blobs,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config()
	if !containsString(c.NextProtos, "acme-tls/1") {
		t.Fatalf("NextProtos = %v, want acme-tls/1 for TLS-ALPN-01", c.NextProtos)
	}
	addr := serveTLS(t, c)
	if got := servedCN(t, addr, "mail.example.org"); got != "mail.example.org" {
		t.Fatalf("ACME name served %q", got)
	}
	if got := servedCN(t, addr, "other.example"); got != "other.example" {
		t.Fatalf("other name served %q, want the self-signed other.example", got)
	}
	if got := servedCN(t, addr, ""); got != "mail.example.org" {
		t.Fatalf("no SNI served %q, want the ACME certificate", got)
	}

	// HTTP-01: challenges of names not on the list are refused, other
	// paths reach the wrapped handler.
	h := m.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://mail.example.org/healthz", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("/healthz through the ACME handler: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://evil.example/.well-known/acme-challenge/tok", nil))
	if rec.Code == http.StatusOK || rec.Code == http.StatusTeapot {
		t.Fatalf("challenge for a name not on the list: %d", rec.Code)
	}
}

func TestACMENeedsDomains(t *testing.T) {
	_, err := Open(Options{DataDir: t.TempDir(), Hostname: "h", ACME: &ACMEOptions{Blobs: blobCache(t).Blobs}})
	if err == nil {
		t.Fatal("ACME without domains accepted")
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestACMEFallsBackWithoutCertificate: before ACME has a certificate (the
// CA here is a closed loopback port), a handshake without SNI gets the
// self-signed pair instead of failing.
func TestACMEFallsBackWithoutCertificate(t *testing.T) {
	m, err := Open(Options{
		DataDir:  t.TempDir(),
		Hostname: "mail.example.org",
		ACME: &ACMEOptions{
			Domains:      []string{"mail.example.org"},
			DirectoryURL: "http://127.0.0.1:9/directory",
			Blobs:        blobCache(t).Blobs,
			Hostname:     "mail.example.org",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, m.Config())
	if got := servedCN(t, addr, ""); got != "mail.example.org" {
		t.Fatalf("no SNI served %q, want the self-signed mail.example.org", got)
	}
}
