package testenv

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Password is the password of the users User makes.
const Password = "correct horse battery"

// hashes holds one argon2id hash per password: hashing is slow on purpose,
// and a test binary needs each password's hash once.
var hashes sync.Map // password → func() (string, error)

// Hash returns an argon2id hash of password, the same for every call of the
// test binary.
func Hash(t testing.TB, password string) string {
	t.Helper()
	f, _ := hashes.LoadOrStore(password, sync.OnceValues(func() (string, error) { return auth.HashPassword(password) }))
	h, err := f.(func() (string, error))()
	if err != nil {
		t.Fatalf("testenv: hashing a password: %v", err)
	}
	return h
}

// User adds the user address with the password Password, and its domain
// if the store lacks it.
func (e *Env) User(address string) store.User {
	e.t.Helper()
	return e.UserWithHash(address, Hash(e.t, Password))
}

// UserWithHash is User with the password hash hash.
func (e *Env) UserWithHash(address, hash string) store.User {
	e.t.Helper()
	if _, domain, ok := strings.Cut(address, "@"); ok {
		e.Domain(domain)
	}
	u, err := e.Store.AddUser(context.Background(), address, hash)
	if err != nil {
		e.t.Fatalf("testenv: adding user %s: %v", address, err)
	}
	return u
}
