package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// directory is a lookup table; only UserByAddress is used by Login.
type directory struct {
	store.Directory // nil: any other method panics
	users           map[string]store.User
	err             error
	mu              sync.Mutex // for concurrent Logins
	lookups         int
}

func (d *directory) UserByAddress(ctx context.Context, address string) (store.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lookups++
	if d.err != nil {
		return store.User{}, d.err
	}
	if address != strings.ToLower(address) {
		panic("Login must lower-case the address: " + address)
	}
	u, ok := d.users[address]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (d *directory) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lookups
}

func newDir(t *testing.T) *directory {
	t.Helper()
	// Cheap parameters keep the tests fast (the race detector slows
	// argon2 down a lot); Login reads them from the hash.
	h, err := hashWith("right password", 64, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return &directory{users: map[string]store.User{
		"alice@example.org":    {ID: "u1", Address: "alice@example.org", PasswordHash: h},
		"disabled@example.org": {ID: "u2", Address: "disabled@example.org", PasswordHash: ""},
		"broken@example.org":   {ID: "u3", Address: "broken@example.org", PasswordHash: "$argon2id$garbage"},
	}}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	a := New(newDir(t), Options{})
	// A cheap dummy too; TestLoginUnknownUserVerifiesDummy checks the real one.
	a.dummyOnce.Do(func() { a.dummy, _ = hashWith("dummy", 64, 1, 1) })
	for _, name := range []string{"alice@example.org", "Alice@Example.ORG", " alice@example.org "} {
		u, err := a.Login(ctx, name, "right password")
		if err != nil || u.ID != "u1" {
			t.Errorf("Login(%q) = %+v, %v; want user u1", name, u, err)
		}
	}
	for _, tc := range []struct{ user, password string }{
		{"alice@example.org", "wrong password"},
		{"alice@example.org", ""},
		{"alice@example.org", "right password "},
		{"alice@example.org", strings.Repeat("x", 5000)},
		{"nobody@example.org", "right password"},
		{"", "right password"},
		{"disabled@example.org", ""},
		{"broken@example.org", "anything"},
	} {
		if u, err := a.Login(ctx, tc.user, tc.password); !errors.Is(err, ErrFailed) {
			t.Errorf("Login(%q, %q) = %+v, %v; want ErrFailed", tc.user, tc.password, u, err)
		}
	}
}

// TestLoginUnknownUserVerifiesDummy checks the timing defence structurally:
// a login for an unknown address runs a real argon2id verification.
func TestLoginUnknownUserVerifiesDummy(t *testing.T) {
	a := New(newDir(t), Options{})
	if _, err := a.Login(context.Background(), "nobody@example.org", "x"); !errors.Is(err, ErrFailed) {
		t.Fatalf("Login = %v, want ErrFailed", err)
	}
	if _, err := parsePHC(a.dummy); err != nil {
		t.Fatalf("no valid dummy hash was verified: %q: %v", a.dummy, err)
	}
}

func TestLoginStorageFailure(t *testing.T) {
	d := newDir(t)
	boom := errors.New("disk on fire")
	d.err = boom
	_, err := New(d, Options{}).Login(context.Background(), "alice@example.org", "right password")
	if err == nil || errors.Is(err, ErrFailed) || !errors.Is(err, boom) {
		t.Fatalf("Login with a failing directory = %v; want the storage error, not ErrFailed", err)
	}
}

func TestLoginCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := New(newDir(t), Options{})
	// Fill every hashing slot so that Login must wait and sees ctx end.
	for range cap(a.sem) {
		a.sem <- struct{}{}
	}
	_, err := a.Login(ctx, "alice@example.org", "right password")
	if err == nil || errors.Is(err, ErrFailed) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Login with canceled ctx = %v; want context.Canceled", err)
	}
}

func TestNormalizeName(t *testing.T) {
	for _, in := range []string{"carol@example.org", "  carol@example.org", "carol@example.org \t",
		"Carol@Example.ORG", "carol@example.org.", "\u00a0CAROL@example.org..\r\n"} {
		if got := NormalizeName(in); got != "carol@example.org" {
			t.Errorf("NormalizeName(%q) = %q; want carol@example.org", in, got)
		}
	}
}
