package srs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// keyPrefix is where the keys live in the blob store: srs/<created>-<rand>,
// <created> the Unix time in seconds, zero-padded, so that names sort by age.
const keyPrefix = "srs/"

// cacheTTL is how long a Keyring trusts the keys it read: a key rotated
// elsewhere is used (and accepted) here within that time.
const cacheTTL = time.Minute

// RotateEvery is the age at which the signing key is replaced by a new
// one, the next time an address is made. The old one verifies for MaxAge
// more, so at most two keys are in use.
const RotateEvery = 30 * 24 * time.Hour

// maxKeys bounds the keys read from the store.
const maxKeys = 100

// Keyring is the set of SRS secrets in a blob store: the newest signs, and
// every key superseded less than MaxAge ago still verifies (the grace
// period: an address made with it may still be bounced to). Keys are 32
// random bytes, stored base64; they are secrets and are never logged.
type Keyring struct {
	Blobs blob.Store
	Now   func() time.Time // nil: time.Now

	mu      sync.Mutex
	keys    []key
	fetched time.Time
}

type key struct {
	name    string
	created time.Time
	secret  []byte
}

// Signing returns the key to make new addresses with, creating the first
// key if there is none and a new one when the newest is RotateEvery old.
// Processes rotating at once make a key each; both verify, the newest
// signs everywhere.
func (k *Keyring) Signing(ctx context.Context) ([]byte, error) {
	keys, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || k.now().Sub(keys[len(keys)-1].created) >= RotateEvery {
		if _, err := k.Rotate(ctx); err != nil {
			return nil, err
		}
		if keys, err = k.load(ctx); err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, errors.New("srs: no key after creating one")
		}
	}
	return keys[len(keys)-1].secret, nil
}

// Verifying returns the keys an address may be made with: the newest and
// those superseded less than MaxAge ago.
func (k *Keyring) Verifying(ctx context.Context) ([][]byte, error) {
	keys, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	now := k.now()
	var out [][]byte
	for i, kk := range keys {
		if i == len(keys)-1 || now.Sub(keys[i+1].created) < MaxAge {
			out = append(out, kk.secret)
		}
	}
	return out, nil
}

// Reverse is Reverse with the verifying keys of k, at the current time.
// An address no cached key verifies is tried again with the keys read
// anew (at most every refreshGap), so a key made by another process a
// moment ago is found.
func (k *Keyring) Reverse(ctx context.Context, addr string) (string, error) {
	keys, err := k.Verifying(ctx)
	if err != nil {
		return "", err
	}
	orig, err := Reverse(keys, addr, k.now())
	if !errors.Is(err, ErrInvalid) || !k.expire() {
		return orig, err
	}
	if keys, err = k.Verifying(ctx); err != nil {
		return "", err
	}
	return Reverse(keys, addr, k.now())
}

// refreshGap is how often an unverifiable address may make k read the
// keys again.
const refreshGap = 5 * time.Second

// expire drops the cached keys if they are older than refreshGap.
func (k *Keyring) expire() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.now().Sub(k.fetched) < refreshGap {
		return false
	}
	k.fetched = time.Time{}
	return true
}

// Rotate adds a new key, which signs from now on, and deletes the keys
// no longer needed for verifying. It returns the new key's name.
func (k *Keyring) Rotate(ctx context.Context) (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("srs: new key: %w", err)
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	now := k.now()
	name := fmt.Sprintf("%s%020d-%x", keyPrefix, now.Unix(), suffix)
	enc := base64.StdEncoding.EncodeToString(secret)
	if _, err := k.Blobs.Put(ctx, name, bytes.NewReader([]byte(enc)), nil); err != nil {
		return "", fmt.Errorf("srs: storing key: %w", err)
	}
	k.mu.Lock()
	k.fetched = time.Time{}
	k.mu.Unlock()
	return name, k.prune(ctx, now)
}

// prune deletes keys superseded at least MaxAge before now.
func (k *Keyring) prune(ctx context.Context, now time.Time) error {
	keys, err := k.load(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := 0; i+1 < len(keys); i++ {
		if now.Sub(keys[i+1].created) >= MaxAge {
			if err := k.Blobs.Delete(ctx, keys[i].name); err != nil {
				errs = append(errs, fmt.Errorf("srs: deleting an old key: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// load returns the keys, oldest first, from the cache or the store.
func (k *Keyring) load(ctx context.Context) ([]key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.fetched.IsZero() && k.now().Sub(k.fetched) < cacheTTL && len(k.keys) > 0 {
		return k.keys, nil
	}
	infos, err := k.Blobs.List(ctx, keyPrefix, "", maxKeys)
	if err != nil {
		return nil, fmt.Errorf("srs: listing keys: %w", err)
	}
	keys := make([]key, 0, len(infos))
	for _, in := range infos {
		kk, err := k.read(ctx, in.Key)
		if errors.Is(err, blob.ErrNotFound) {
			continue // pruned meanwhile
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, kk)
	}
	k.keys, k.fetched = keys, k.now()
	return keys, nil
}

// read reads the key stored under name.
func (k *Keyring) read(ctx context.Context, name string) (key, error) {
	created, err := strconv.ParseInt(name[len(keyPrefix):min(len(name), len(keyPrefix)+20)], 10, 64)
	if err != nil {
		return key{}, fmt.Errorf("srs: key name %q: %w", name, err)
	}
	rc, err := k.Blobs.Get(ctx, name, 0, 1024)
	if err != nil {
		return key{}, fmt.Errorf("srs: reading a key: %w", err)
	}
	defer rc.Close()
	enc, err := io.ReadAll(rc)
	if err != nil {
		return key{}, fmt.Errorf("srs: reading a key: %w", err)
	}
	secret, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(enc)))
	if err != nil || len(secret) < 16 {
		return key{}, fmt.Errorf("srs: key %q is malformed", name)
	}
	return key{name: name, created: time.Unix(created, 0), secret: secret}, nil
}

func (k *Keyring) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}
