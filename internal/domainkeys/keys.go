package domainkeys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// Algorithms accepted by Generate.
const (
	Ed25519 = "ed25519"
	RSA2048 = "rsa2048"
)

// keyPrefix starts the object key of every DKIM key.
const keyPrefix = "dkim/"

// Object metadata of a key.
const (
	metaAlgorithm = "algorithm"
	metaCreated   = "created"
)

// maxKeySize bounds what is read from a key object (a 4096-bit RSA key in
// PEM is about 3.3 KB).
const maxKeySize = 64 << 10

// Errors of this package. ErrExists and ErrInvalid are permanent.
var (
	ErrExists  = fault.Permanent(errors.New("domainkeys: a key with this selector exists"))
	ErrInvalid = fault.Permanent(errors.New("domainkeys: invalid domain, selector or algorithm"))
)

// Key describes one DKIM key; it never holds the private key.
type Key struct {
	Domain    string
	Selector  string
	Algorithm string // Ed25519 or RSA2048 (or "rsa<bits>" for an imported RSA key)
	Created   time.Time
	// TXT is the value of the DNS TXT record to publish at
	// <Selector>._domainkey.<Domain> (RFC 6376 section 3.6.1).
	TXT string
}

// Record is the owner name of the key's DNS TXT record.
func (k Key) Record() string { return k.Selector + "._domainkey." + k.Domain }

// ObjectKey is the blob key under which the key of domain and selector lives.
func ObjectKey(domain, selector string) string {
	return keyPrefix + strings.ToLower(domain) + "/" + strings.ToLower(selector)
}

// Generate makes a new key for domain under selector, stores it and returns
// its description. It fails with ErrExists if the selector is taken.
func Generate(ctx context.Context, blobs blob.Store, domain, selector, algorithm string) (Key, error) {
	domain, selector = strings.ToLower(domain), strings.ToLower(selector)
	if !validName(domain) || !validName(selector) {
		return Key{}, ErrInvalid
	}
	var signer crypto.Signer
	switch algorithm {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return Key{}, fmt.Errorf("domainkeys: generating key: %w", err)
		}
		signer = priv
	case RSA2048:
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return Key{}, fmt.Errorf("domainkeys: generating key: %w", err)
		}
		signer = priv
	default:
		return Key{}, ErrInvalid
	}
	key := ObjectKey(domain, selector)
	switch _, err := blobs.Stat(ctx, key); {
	case err == nil:
		return Key{}, ErrExists
	case !errors.Is(err, blob.ErrNotFound):
		return Key{}, fmt.Errorf("domainkeys: %s: %w", key, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return Key{}, fmt.Errorf("domainkeys: encoding key: %w", err)
	}
	created := time.Now().UTC().Truncate(time.Second)
	meta := map[string]string{metaAlgorithm: algorithm, metaCreated: created.Format(time.RFC3339)}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if _, err := blobs.Put(ctx, key, bytes.NewReader(data), meta); err != nil {
		return Key{}, fmt.Errorf("domainkeys: storing %s: %w", key, err)
	}
	txt, err := txtRecord(signer.Public())
	if err != nil {
		return Key{}, err
	}
	return Key{Domain: domain, Selector: selector, Algorithm: algorithm, Created: created, TXT: txt}, nil
}

// List returns the keys of domain, or of every domain when domain is "",
// ordered by domain and selector.
func List(ctx context.Context, blobs blob.Store, domain string) ([]Key, error) {
	loaded, err := load(ctx, blobs, domain)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, len(loaded))
	for i, l := range loaded {
		keys[i] = l.Key
	}
	return keys, nil
}

// Delete removes the key of domain under selector; a missing key is not an
// error. Mail signed with it fails verification once the DNS record is
// gone, so remove the record some days after the key.
func Delete(ctx context.Context, blobs blob.Store, domain, selector string) error {
	if !validName(strings.ToLower(domain)) || !validName(strings.ToLower(selector)) {
		return ErrInvalid
	}
	key := ObjectKey(domain, selector)
	if err := blobs.Delete(ctx, key); err != nil {
		return fmt.Errorf("domainkeys: deleting %s: %w", key, err)
	}
	return nil
}

// loadedKey is a Key with its private key.
type loadedKey struct {
	Key
	signer crypto.Signer
}

// load reads the keys of domain ("" for all).
func load(ctx context.Context, blobs blob.Store, domain string) ([]loadedKey, error) {
	prefix := keyPrefix
	if domain != "" {
		domain = strings.ToLower(domain)
		if !validName(domain) {
			return nil, ErrInvalid
		}
		prefix += domain + "/"
	}
	var out []loadedKey
	after := ""
	for {
		infos, err := blobs.List(ctx, prefix, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("domainkeys: listing %s: %w", prefix, err)
		}
		for _, info := range infos {
			k, err := loadOne(ctx, blobs, info.Key)
			if errors.Is(err, blob.ErrNotFound) {
				continue // deleted since List
			}
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		if len(infos) < 1000 {
			break
		}
		after = infos[len(infos)-1].Key
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Domain != out[j].Domain {
			return out[i].Domain < out[j].Domain
		}
		return out[i].Selector < out[j].Selector
	})
	return out, nil
}

// loadOne reads and parses the key object key (dkim/<domain>/<selector>).
func loadOne(ctx context.Context, blobs blob.Store, key string) (loadedKey, error) {
	rest := strings.TrimPrefix(key, keyPrefix)
	domain, selector, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(selector, "/") {
		return loadedKey{}, fmt.Errorf("domainkeys: unexpected object %s", key)
	}
	info, err := blobs.Stat(ctx, key)
	if err != nil {
		return loadedKey{}, fmt.Errorf("domainkeys: %s: %w", key, err)
	}
	rc, err := blobs.Get(ctx, key, 0, maxKeySize)
	if err != nil {
		return loadedKey{}, fmt.Errorf("domainkeys: reading %s: %w", key, err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return loadedKey{}, fmt.Errorf("domainkeys: reading %s: %w", key, err)
	}
	signer, err := parsePrivateKey(data)
	if err != nil {
		// The error names the object only: never key material.
		return loadedKey{}, fault.Permanent(fmt.Errorf("domainkeys: %s holds no usable private key", key))
	}
	txt, err := txtRecord(signer.Public())
	if err != nil {
		return loadedKey{}, err
	}
	created := info.Modified.UTC()
	if t, err := time.Parse(time.RFC3339, info.Meta[metaCreated]); err == nil {
		created = t
	}
	return loadedKey{
		Key:    Key{Domain: domain, Selector: selector, Algorithm: algorithmOf(signer), Created: created, TXT: txt},
		signer: signer,
	}, nil
}

// parsePrivateKey accepts PKCS #8 (what Generate writes) and PKCS #1 RSA
// PEM blocks, so that an existing key can be imported by copying its file.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type == "RSA PRIVATE KEY" {
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	}
	return nil, errors.New("unsupported key type")
}

func algorithmOf(s crypto.Signer) string {
	if k, ok := s.Public().(*rsa.PublicKey); ok {
		return fmt.Sprintf("rsa%d", k.N.BitLen())
	}
	return Ed25519
}

// txtRecord is the DKIM key record of pub (RFC 6376 section 3.6.1): for
// RSA p= is the DER SubjectPublicKeyInfo, for Ed25519 the raw 32-byte key
// (RFC 8463 section 4.2).
func txtRecord(pub crypto.PublicKey) (string, error) {
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("domainkeys: encoding public key: %w", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	}
	return "", errors.New("domainkeys: unsupported key type")
}

// validName accepts a lower-case DNS name of letters, digits, '-' and '.'
// in non-empty labels: a domain, or a selector (RFC 6376 section 3.1).
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
