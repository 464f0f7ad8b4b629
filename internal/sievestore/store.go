// Package sievestore keeps users' Sieve scripts. The scripts and the
// name of each user's active script live in the bucket, which stays the
// record; the store holds a copy of the active script's text under a
// checkpoint name, so that delivery reads one small value per recipient
// and no process keeps scripts of its own.
package sievestore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/sieve"
)

// Errors of this package; all are permanent.
var (
	ErrNotFound = fault.Permanent(errors.New("sievestore: no such script"))
	ErrInvalid  = fault.Permanent(errors.New("sievestore: invalid script name"))
	ErrActive   = fault.Permanent(errors.New("sievestore: the active script cannot be deleted"))
	ErrExists   = fault.Permanent(errors.New("sievestore: a script with this name exists"))
	ErrTooMany  = fault.Permanent(errors.New("sievestore: too many scripts"))
)

// Limits of what one user may keep.
const (
	MaxScripts = 32 // scripts per user
	MaxName    = 128
)

// keyPrefix starts the object key of every script.
const keyPrefix = "sieve/"

// Checkpoints is the slice of the store the scripts need.
type Checkpoints interface {
	Checkpoint(ctx context.Context, name string) (string, error)
	SetCheckpoint(ctx context.Context, name, value string) error
	DeleteCheckpoint(ctx context.Context, name string) error
}

// Scripts reads and writes the scripts of users.
type Scripts struct {
	Blobs  blob.Store
	Store  Checkpoints
	Limits sieve.Limits // what Put compiles against
}

// Entry is one script of a user.
type Entry struct {
	Name   string
	Active bool
}

// Object keys hold the user id and the script name hex-encoded: the blob
// stores accept few characters in keys, and names are free text.
func userPrefix(uid string) string { return keyPrefix + hex.EncodeToString([]byte(uid)) + "/" }
func scriptKey(uid, name string) string {
	return userPrefix(uid) + "s/" + hex.EncodeToString([]byte(name))
}
func activeKey(uid string) string { return userPrefix(uid) + "active" }

// activeCheckpoint names the store's copy of uid's active script.
func activeCheckpoint(uid string) string { return "sieve-active/" + uid }

// ValidName reports whether name may name a script: RFC 5804 section
// 1.6 forbids control characters; we also bound the length.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxName || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool {
		return unicode.IsControl(r) || r == 0x2028 || r == 0x2029
	})
}

// Put stores src as uid's script name after compiling it; the compile
// error (a *sieve.Error with line and column) is returned as it is.
// Replacing the active script updates the store's copy too.
func (s *Scripts) Put(ctx context.Context, uid, name, src string) error {
	if !ValidName(name) {
		return ErrInvalid
	}
	if _, err := sieve.Compile(src, s.Limits); err != nil {
		return err
	}
	list, err := s.List(ctx, uid)
	if err != nil {
		return err
	}
	if len(list) >= MaxScripts && !slices.ContainsFunc(list, func(e Entry) bool { return e.Name == name }) {
		return ErrTooMany
	}
	if _, err := s.Blobs.Put(ctx, scriptKey(uid, name), strings.NewReader(src), nil); err != nil {
		return fmt.Errorf("sievestore: writing %s: %w", name, err)
	}
	active, err := s.activeName(ctx, uid)
	if err != nil || active != name {
		return err
	}
	return s.Store.SetCheckpoint(ctx, activeCheckpoint(uid), src)
}

// Get returns the text of uid's script name.
func (s *Scripts) Get(ctx context.Context, uid, name string) (string, error) {
	if !ValidName(name) {
		return "", ErrNotFound
	}
	return s.read(ctx, scriptKey(uid, name))
}

func (s *Scripts) read(ctx context.Context, key string) (string, error) {
	rc, err := s.Blobs.Get(ctx, key, 0, -1)
	if errors.Is(err, blob.ErrNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sievestore: reading %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return "", fmt.Errorf("sievestore: reading %s: %w", key, err)
	}
	return string(b), nil
}

// List returns uid's scripts sorted by name.
func (s *Scripts) List(ctx context.Context, uid string) ([]Entry, error) {
	prefix := userPrefix(uid) + "s/"
	infos, err := s.Blobs.List(ctx, prefix, "", MaxScripts+1)
	if err != nil {
		return nil, fmt.Errorf("sievestore: listing scripts: %w", err)
	}
	active, err := s.activeName(ctx, uid)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, in := range infos {
		b, err := hex.DecodeString(strings.TrimPrefix(in.Key, prefix))
		if err != nil {
			continue
		}
		out = append(out, Entry{Name: string(b), Active: string(b) == active})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// activeName returns the name of uid's active script, or "".
func (s *Scripts) activeName(ctx context.Context, uid string) (string, error) {
	name, err := s.read(ctx, activeKey(uid))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return name, err
}

// SetActive makes name uid's active script; "" leaves the user without
// one (RFC 5804 section 2.8).
func (s *Scripts) SetActive(ctx context.Context, uid, name string) error {
	if name == "" {
		if err := s.Blobs.Delete(ctx, activeKey(uid)); err != nil {
			return fmt.Errorf("sievestore: deactivating: %w", err)
		}
		return s.Store.DeleteCheckpoint(ctx, activeCheckpoint(uid))
	}
	src, err := s.Get(ctx, uid, name)
	if err != nil {
		return err
	}
	if _, err := s.Blobs.Put(ctx, activeKey(uid), strings.NewReader(name), nil); err != nil {
		return fmt.Errorf("sievestore: activating %s: %w", name, err)
	}
	return s.Store.SetCheckpoint(ctx, activeCheckpoint(uid), src)
}

// Delete removes uid's script name, which must not be the active one
// (RFC 5804 section 2.10).
func (s *Scripts) Delete(ctx context.Context, uid, name string) error {
	if _, err := s.Get(ctx, uid, name); err != nil {
		return err
	}
	active, err := s.activeName(ctx, uid)
	if err != nil {
		return err
	}
	if active == name {
		return ErrActive
	}
	if err := s.Blobs.Delete(ctx, scriptKey(uid, name)); err != nil {
		return fmt.Errorf("sievestore: deleting %s: %w", name, err)
	}
	return nil
}

// Rename renames uid's script from to to, keeping it active if it was
// (RFC 5804 section 2.11.1).
func (s *Scripts) Rename(ctx context.Context, uid, from, to string) error {
	if !ValidName(to) {
		return ErrInvalid
	}
	src, err := s.Get(ctx, uid, from)
	if err != nil {
		return err
	}
	if _, err := s.Get(ctx, uid, to); err == nil {
		return ErrExists
	}
	if _, err := s.Blobs.Put(ctx, scriptKey(uid, to), strings.NewReader(src), nil); err != nil {
		return fmt.Errorf("sievestore: writing %s: %w", to, err)
	}
	active, err := s.activeName(ctx, uid)
	if err != nil {
		return err
	}
	if active == from {
		if err := s.SetActive(ctx, uid, to); err != nil {
			return err
		}
	}
	return s.Blobs.Delete(ctx, scriptKey(uid, from))
}

// Active returns the text of uid's active script from the store's copy,
// or "" when the user has none. This is the call delivery makes.
func (s *Scripts) Active(ctx context.Context, uid string) (string, error) {
	src, err := s.Store.Checkpoint(ctx, activeCheckpoint(uid))
	if err != nil {
		return "", fmt.Errorf("sievestore: active script of %s: %w", uid, err)
	}
	return src, nil
}

// Restore copies uid's active script from the bucket into the store
// again, as after a store rebuilt from the bucket.
func (s *Scripts) Restore(ctx context.Context, uid string) error {
	name, err := s.activeName(ctx, uid)
	if err != nil || name == "" {
		return err
	}
	return s.SetActive(ctx, uid, name)
}

// RestoreAll copies every user's active script from the bucket into the
// store, as `bucketmail reindex` does after the store lost data. It
// returns how many users have one.
func (s *Scripts) RestoreAll(ctx context.Context) (int, error) {
	n, after := 0, ""
	for {
		infos, err := s.Blobs.List(ctx, keyPrefix, after, 1000)
		if err != nil {
			return n, fmt.Errorf("sievestore: listing scripts: %w", err)
		}
		if len(infos) == 0 {
			return n, nil
		}
		for _, in := range infos {
			rest, ok := strings.CutSuffix(strings.TrimPrefix(in.Key, keyPrefix), "/active")
			uid, err := hex.DecodeString(rest)
			if !ok || err != nil {
				continue
			}
			if err := s.Restore(ctx, string(uid)); err != nil {
				return n, err
			}
			n++
		}
		after = infos[len(infos)-1].Key
	}
}
