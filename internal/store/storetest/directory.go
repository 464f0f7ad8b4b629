package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

func testDirectory(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Domains", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		must(t, s.AddDomain(ctx, "Example.ORG"))
		must(t, s.AddDomain(ctx, "a.example"))
		wantErr(t, s.AddDomain(ctx, "example.org"), store.ErrExists, "add domain twice")
		ok, err := s.HasDomain(ctx, "EXAMPLE.org")
		must(t, err)
		if !ok {
			t.Fatal("HasDomain is case-sensitive")
		}
		if ok, _ := s.HasDomain(ctx, "other.example"); ok {
			t.Fatal("HasDomain(other) = true")
		}
		got, err := s.Domains(ctx)
		must(t, err)
		if want := []string{"a.example", "example.org"}; !slices.Equal(got, want) {
			t.Fatalf("Domains = %q, want %q", got, want)
		}
		must(t, s.DeleteDomain(ctx, "A.example"))
		wantErr(t, s.DeleteDomain(ctx, "a.example"), store.ErrNotFound, "delete missing domain")
		got, _ = s.Domains(ctx)
		if !slices.Equal(got, []string{"example.org"}) {
			t.Fatalf("Domains after delete = %q", got)
		}
	})

	t.Run("Users", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		_, err := s.AddUser(ctx, "bob@example.org", "h")
		wantErr(t, err, store.ErrNotFound, "add user of missing domain")
		must(t, s.AddDomain(ctx, "example.org"))
		bob, err := s.AddUser(ctx, "Bob@Example.org", "h1")
		must(t, err)
		if bob.Address != "bob@example.org" || bob.ID == "" || bob.PasswordHash != "h1" || bob.Created.IsZero() {
			t.Fatalf("AddUser = %+v", bob)
		}
		if strings.Contains(strings.ToLower(bob.ID), "bob") {
			t.Fatalf("user ID %q derived from the address", bob.ID)
		}
		_, err = s.AddUser(ctx, "BOB@example.org", "h")
		wantErr(t, err, store.ErrExists, "add user twice")
		alice, err := s.AddUser(ctx, "alice@example.org", "h2")
		must(t, err)
		if alice.ID == bob.ID {
			t.Fatal("two users with one ID")
		}

		got, err := s.UserByAddress(ctx, "BOB@EXAMPLE.ORG")
		must(t, err)
		if got.ID != bob.ID || got.Address != bob.Address || got.PasswordHash != "h1" || !got.Created.Equal(bob.Created) {
			t.Fatalf("UserByAddress = %+v, want %+v", got, bob)
		}
		got, err = s.UserByID(ctx, alice.ID)
		must(t, err)
		if got.Address != "alice@example.org" {
			t.Fatalf("UserByID = %+v", got)
		}
		_, err = s.UserByAddress(ctx, "carol@example.org")
		wantErr(t, err, store.ErrNotFound, "missing user")
		_, err = s.UserByID(ctx, "no-such-id")
		wantErr(t, err, store.ErrNotFound, "missing user id")

		must(t, s.SetPassword(ctx, "Bob@example.org", "h3"))
		got, _ = s.UserByAddress(ctx, "bob@example.org")
		if got.PasswordHash != "h3" || got.ID != bob.ID {
			t.Fatalf("after SetPassword: %+v", got)
		}
		wantErr(t, s.SetPassword(ctx, "carol@example.org", "h"), store.ErrNotFound, "set password of missing user")

		users, err := s.Users(ctx)
		must(t, err)
		if len(users) != 2 || users[0].Address != "alice@example.org" || users[1].Address != "bob@example.org" {
			t.Fatalf("Users = %+v", users)
		}
		wantErr(t, s.DeleteDomain(ctx, "example.org"), store.ErrInUse, "delete domain with users")
		must(t, s.DeleteUser(ctx, "BOB@example.org"))
		wantErr(t, s.DeleteUser(ctx, "bob@example.org"), store.ErrNotFound, "delete user twice")
		_, err = s.UserByID(ctx, bob.ID)
		wantErr(t, err, store.ErrNotFound, "deleted user by id")
		must(t, s.DeleteUser(ctx, "alice@example.org"))
		must(t, s.DeleteDomain(ctx, "example.org"))
	})

	t.Run("Aliases", func(t *testing.T) {
		s, ctx := open(t), ctxFor(t)
		wantErr(t, s.AddAlias(ctx, "info@example.org", []string{"bob@example.org"}), store.ErrNotFound, "alias of missing domain")
		must(t, s.AddDomain(ctx, "example.org"))
		_, err := s.AddUser(ctx, "bob@example.org", "h")
		must(t, err)
		must(t, s.AddAlias(ctx, "Info@Example.org", []string{"Bob@example.org", "x@remote.example"}))
		must(t, s.AddAlias(ctx, "info@example.org", []string{"bob@example.org"})) // twice: no error, no duplicate
		got, err := s.AliasTargets(ctx, "INFO@example.org")
		must(t, err)
		if !sameSet(got, []string{"bob@example.org", "x@remote.example"}) {
			t.Fatalf("AliasTargets = %q", got)
		}
		must(t, s.AddAlias(ctx, "@example.org", []string{"bob@example.org"}))
		got, _ = s.AliasTargets(ctx, "@EXAMPLE.org")
		if !sameSet(got, []string{"bob@example.org"}) {
			t.Fatalf("catch-all targets = %q", got)
		}
		if got, err := s.AliasTargets(ctx, "nobody@example.org"); err != nil || got != nil {
			t.Fatalf("AliasTargets(missing) = %q, %v; want nil, nil", got, err)
		}
		all, err := s.Aliases(ctx)
		must(t, err)
		if len(all) != 2 || len(all["info@example.org"]) != 2 || len(all["@example.org"]) != 1 {
			t.Fatalf("Aliases = %q", all)
		}

		_, err = s.AddUser(ctx, "info@example.org", "h")
		wantErr(t, err, store.ErrExists, "user on an alias address")

		must(t, s.DeleteUser(ctx, "bob@example.org"))
		wantErr(t, s.DeleteDomain(ctx, "example.org"), store.ErrInUse, "delete domain with aliases")

		must(t, s.DeleteAlias(ctx, "info@example.org", []string{"X@remote.example"}))
		got, _ = s.AliasTargets(ctx, "info@example.org")
		if !sameSet(got, []string{"bob@example.org"}) {
			t.Fatalf("after removing one target: %q", got)
		}
		must(t, s.DeleteAlias(ctx, "info@example.org", nil))
		if got, _ := s.AliasTargets(ctx, "info@example.org"); got != nil {
			t.Fatalf("after deleting alias: %q", got)
		}
		wantErr(t, s.DeleteAlias(ctx, "info@example.org", nil), store.ErrNotFound, "delete missing alias")
		must(t, s.DeleteAlias(ctx, "@example.org", nil))
		must(t, s.DeleteDomain(ctx, "example.org"))
	})
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, s := range a {
		n[s]++
	}
	for _, s := range b {
		n[s]--
	}
	for _, c := range n {
		if c != 0 {
			return false
		}
	}
	return true
}
